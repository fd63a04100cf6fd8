# Builds the Envoy v3 API into one static library, `sluice_envoy_api`.
#
# The .proto files come from the npm package @grpc/grpc-js-xds (its deps/
# folder carries Envoy's API, xds, googleapis and protoc-gen-validate), pinned by
# api/package.json + api/package-lock.json. Nothing generated is committed.
#
# SLUICE_API_FROM: a build directory that already built this library (the
# release build). The sanitizer builds link that copy instead of generating and
# compiling ~17 MB of C++ a second time; generated code carries no sanitizer
# instrumentation either way, as it only runs at config time.

set(SLUICE_API_DIR ${CMAKE_SOURCE_DIR}/api)
set(SLUICE_API_DEPS ${SLUICE_API_DIR}/node_modules/@grpc/grpc-js-xds/deps)

# The roots sluice uses; everything they import follows.
set(SLUICE_API_ROOTS
  envoy/config/bootstrap/v3/bootstrap.proto
  envoy/config/listener/v3/listener.proto
  envoy/config/route/v3/route.proto
  envoy/config/cluster/v3/cluster.proto
  envoy/config/endpoint/v3/endpoint.proto
  envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
  envoy/extensions/filters/http/router/v3/router.proto
  envoy/extensions/transport_sockets/tls/v3/tls.proto
  envoy/extensions/access_loggers/file/v3/file.proto
  envoy/extensions/access_loggers/stream/v3/stream.proto
  envoy/extensions/upstreams/http/v3/http_protocol_options.proto
  envoy/service/discovery/v3/ads.proto
  envoy/service/discovery/v3/discovery.proto
  envoy/service/runtime/v3/rtds.proto
  envoy/service/secret/v3/sds.proto
  envoy/admin/v3/config_dump.proto
  envoy/admin/v3/clusters.proto
  envoy/admin/v3/listeners.proto
  envoy/admin/v3/server_info.proto
  envoy/admin/v3/certs.proto
)
# Services whose gRPC stubs are generated (the rest are messages only).
set(SLUICE_API_SERVICES
  envoy/service/discovery/v3/ads.proto
  envoy/service/runtime/v3/rtds.proto
  envoy/service/secret/v3/sds.proto
)

# Fetch the pinned package when the lock file is newer than what is installed
# (the LRS library below compiles its .proto files in either mode).
set(_stamp ${SLUICE_API_DIR}/node_modules/.package-lock.json)
if(NOT EXISTS ${_stamp} OR ${SLUICE_API_DIR}/package-lock.json IS_NEWER_THAN ${_stamp})
  find_program(NPM npm REQUIRED)
  message(STATUS "api: npm ci (pinned @grpc/grpc-js-xds)")
  execute_process(COMMAND ${NPM} ci --ignore-scripts --no-audit --no-fund
                  WORKING_DIRECTORY ${SLUICE_API_DIR} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "api: npm ci failed (${_rc}); run scripts/install-deps.sh and retry")
  endif()
endif()

if(SLUICE_API_FROM)
  set(_gen ${SLUICE_API_FROM}/api/gen)
  set(_patched ${SLUICE_API_FROM}/api/patched)
  if(NOT EXISTS ${SLUICE_API_FROM}/api/libsluice_envoy_api.a)
    message(FATAL_ERROR "SLUICE_API_FROM=${SLUICE_API_FROM} has no api/libsluice_envoy_api.a: build that directory first")
  endif()
  add_library(sluice_envoy_api_objects STATIC IMPORTED GLOBAL)
  set_target_properties(sluice_envoy_api_objects PROPERTIES
    IMPORTED_LOCATION ${SLUICE_API_FROM}/api/libsluice_envoy_api.a)
else()
  set(_gen ${CMAKE_BINARY_DIR}/api/gen)
  set(_patched ${CMAKE_BINARY_DIR}/api/patched)

  # The package's validate/validate.proto predates its Envoy protos: Envoy uses
  # `ignore_empty` on string rules (field 26 of validate.StringRules, added to
  # protoc-gen-validate after the copy in the package), so protoc would reject
  # them. We add exactly that field to a copy that shadows the original on the
  # include path. The build fails loudly if the package ever changes shape.
  file(READ ${SLUICE_API_DEPS}/protoc-gen-validate/validate/validate.proto _validate)
  string(FIND "${_validate}" "ignore_empty" _has)
  if(_has EQUAL -1)
    string(REPLACE "message StringRules {"
           "message StringRules {\n    // Added by sluice's build (see cmake/EnvoyApi.cmake).\n    optional bool ignore_empty = 26;\n"
           _validate "${_validate}")
    string(FIND "${_validate}" "ignore_empty = 26" _patched_ok)
    if(_patched_ok EQUAL -1)
      message(FATAL_ERROR "api: could not patch validate.StringRules; the pinned package changed")
    endif()
  endif()
  file(WRITE ${_patched}/validate/validate.proto.tmp "${_validate}")
  file(COPY_FILE ${_patched}/validate/validate.proto.tmp ${_patched}/validate/validate.proto ONLY_IF_DIFFERENT)

  set(_include_roots ${_patched} ${SLUICE_API_DEPS}/envoy-api ${SLUICE_API_DEPS}/xds
      ${SLUICE_API_DEPS}/protoc-gen-validate ${SLUICE_API_DEPS}/googleapis)

  # Resolve an import to its file; google/protobuf/* come from libprotobuf-dev.
  function(_sluice_api_locate rel out)
    foreach(root IN LISTS _include_roots)
      if(EXISTS ${root}/${rel})
        set(${out} ${root}/${rel} PARENT_SCOPE)
        return()
      endif()
    endforeach()
    set(${out} "" PARENT_SCOPE)
  endfunction()

  # Walk the import closure of the roots.
  set(_todo ${SLUICE_API_ROOTS})
  set(_closure "")
  while(_todo)
    list(POP_FRONT _todo _rel)
    if(_rel IN_LIST _closure OR _rel MATCHES "^google/protobuf/")
      continue()
    endif()
    _sluice_api_locate(${_rel} _file)
    if(NOT _file)
      message(FATAL_ERROR "api: cannot find ${_rel} in the pinned package")
    endif()
    list(APPEND _closure ${_rel})
    file(STRINGS ${_file} _imports REGEX "^import ")
    foreach(_line IN LISTS _imports)
      if(_line MATCHES "\"([^\"]+)\"")
        list(APPEND _todo ${CMAKE_MATCH_1})
      endif()
    endforeach()
  endwhile()
  list(LENGTH _closure _n)
  message(STATUS "api: ${_n} .proto files in the import closure")

  find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
  set(_proto_flags)
  foreach(root IN LISTS _include_roots)
    list(APPEND _proto_flags -I${root})
  endforeach()

  set(_sources)
  foreach(_rel IN LISTS _closure)
    _sluice_api_locate(${_rel} _file)
    string(REGEX REPLACE "\\.proto$" "" _stem ${_rel})
    set(_outs ${_gen}/${_stem}.pb.cc ${_gen}/${_stem}.pb.h)
    set(_plugin)
    if(_rel IN_LIST SLUICE_API_SERVICES)
      list(APPEND _outs ${_gen}/${_stem}.grpc.pb.cc ${_gen}/${_stem}.grpc.pb.h)
      set(_plugin --grpc_out=${_gen} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${_outs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${_gen}
      COMMAND protobuf::protoc ${_proto_flags} --cpp_out=${_gen} ${_plugin} ${_rel}
      DEPENDS ${_file} protobuf::protoc
      COMMENT "protoc ${_rel}" VERBATIM)
    list(APPEND _sources ${_outs})
  endforeach()

  add_library(sluice_envoy_api_objects STATIC ${_sources})
  set_target_properties(sluice_envoy_api_objects PROPERTIES
    OUTPUT_NAME sluice_envoy_api ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/api)
  # Generated code: optimised, no debug info (it is large and never stepped
  # through), no warnings (not ours to fix), never sanitized.
  target_compile_options(sluice_envoy_api_objects PRIVATE -O2 -g0 -w)
  target_include_directories(sluice_envoy_api_objects PUBLIC ${_gen})
  target_link_libraries(sluice_envoy_api_objects PUBLIC protobuf::libprotobuf gRPC::grpc++)
endif()

# Consumers link the whole archive: descriptors register themselves from static
# initialisers, and typed configs (`Any`) are resolved by name at run time, so
# no object may be dropped by the linker for lack of a direct reference.
add_library(sluice_envoy_api INTERFACE)
target_link_libraries(sluice_envoy_api INTERFACE
  "$<LINK_LIBRARY:WHOLE_ARCHIVE,sluice_envoy_api_objects>" protobuf::libprotobuf gRPC::grpc++)
target_include_directories(sluice_envoy_api SYSTEM INTERFACE ${_gen})

# Services compiled on their own, over the library above (every file they
# import is in it), so that a build reusing another tree's library
# (SLUICE_API_FROM) gets them too: the load reporting service (LRS) that
# sluice-control serves, and the access-log service (ALS) sluice streams to.
# None of their files may join SLUICE_API_ROOTS' closure: they would be
# defined twice.
set(_addon_flags -I${_patched})
foreach(_dir envoy-api xds protoc-gen-validate googleapis)
  list(APPEND _addon_flags -I${SLUICE_API_DEPS}/${_dir})
endforeach()
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
function(sluice_api_addon target)
  set(_addon_gen ${CMAKE_BINARY_DIR}/api/${target}_gen)
  set(_addon_sources)
  foreach(_rel IN LISTS ARGN)
    string(REGEX REPLACE "\\.proto$" "" _stem ${_rel})
    set(_outs ${_addon_gen}/${_stem}.pb.cc ${_addon_gen}/${_stem}.pb.h ${_addon_gen}/${_stem}.grpc.pb.cc
              ${_addon_gen}/${_stem}.grpc.pb.h)
    add_custom_command(
      OUTPUT ${_outs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${_addon_gen}
      COMMAND protobuf::protoc ${_addon_flags} --cpp_out=${_addon_gen} --grpc_out=${_addon_gen}
              --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN} ${_rel}
      DEPENDS ${SLUICE_API_DEPS}/envoy-api/${_rel} protobuf::protoc
      COMMENT "protoc ${_rel}" VERBATIM)
    list(APPEND _addon_sources ${_outs})
  endforeach()
  add_library(${target} STATIC ${_addon_sources})
  target_compile_options(${target} PRIVATE -O2 -g0 -w)
  target_include_directories(${target} SYSTEM PUBLIC ${_addon_gen})
  target_link_libraries(${target} PUBLIC sluice_envoy_api)
endfunction()
sluice_api_addon(sluice_lrs_api envoy/config/endpoint/v3/load_report.proto envoy/service/load_stats/v3/lrs.proto)
sluice_api_addon(sluice_als_api envoy/service/accesslog/v3/als.proto envoy/extensions/access_loggers/grpc/v3/als.proto)
# The tls_inspector listener filter's (empty for sluice) typed config.
sluice_api_addon(sluice_listener_api envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto)
