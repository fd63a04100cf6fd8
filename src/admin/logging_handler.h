// The admin endpoint /logging: lists the application log's components and
// their levels, and changes them (POST) with Envoy's query forms. A change is
// one relaxed store per component: workers see it on their next log line.
// Main thread (the admin server's).
#pragma once

#include "admin/admin_server.h"

namespace sluice::admin {

// GET /logging lists; POST /logging?level=L | ?<component>=L | ?paths=c1:L1,c2:L2
// changes, then lists. GET with a query is refused (405): it would change state.
AdminResponse handleLogging(const AdminRequest& request);

void installLoggingHandler(AdminServer& admin);

}  // namespace sluice::admin
