#include "http/http1_serializer.h"

#include <charconv>

namespace sluice::http::http1 {
namespace {

std::string_view versionText(int version_minor) { return version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1"; }

// Bytes of the field lines and the empty line after them.
size_t fieldsSize(const HeaderMap& headers) { return headers.byteSize() + 4 * headers.size() + 2; }

void appendFields(const HeaderMap& headers, std::string& out) {
  headers.forEach([&out](const HeaderMap::Entry& e) {
    out.append(e.name);
    out.append(": ");
    out.append(e.value);
    out.append("\r\n");
  });
}

}  // namespace

void appendRequestHead(const RequestHead& head, std::string& out) {
  out.reserve(out.size() + head.method.size() + head.target.size() + 12 + fieldsSize(head.headers));
  out.append(head.method);
  out.push_back(' ');
  out.append(head.target);
  out.push_back(' ');
  out.append(versionText(head.version_minor));
  out.append("\r\n");
  appendFields(head.headers, out);
  out.append("\r\n");
}

void appendResponseHead(const ResponseHead& head, std::string& out) {
  const std::string_view reason = head.reason.empty() ? reasonPhrase(head.status) : std::string_view(head.reason);
  out.reserve(out.size() + reason.size() + 16 + fieldsSize(head.headers));
  out.append(versionText(head.version_minor));
  out.push_back(' ');
  char status[16];
  const auto [end, ec] = std::to_chars(status, status + sizeof(status), head.status);
  out.append(status, end);
  out.push_back(' ');
  out.append(reason);
  out.append("\r\n");
  appendFields(head.headers, out);
  out.append("\r\n");
}

void appendChunk(std::string_view data, std::string& out) {
  if (data.empty()) return;
  char size[24];
  const auto [end, ec] = std::to_chars(size, size + sizeof(size), data.size(), 16);
  out.reserve(out.size() + static_cast<size_t>(end - size) + data.size() + 4);
  out.append(size, end);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

void appendLastChunk(const HeaderMap* trailers, std::string& out) {
  out.append("0\r\n");
  if (trailers != nullptr) appendFields(*trailers, out);
  out.append("\r\n");
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 208:
      return "Already Reported";
    case 226:
      return "IM Used";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 305:
      return "Use Proxy";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 506:
      return "Variant Also Negotiates";
    case 507:
      return "Insufficient Storage";
    case 508:
      return "Loop Detected";
    case 511:
      return "Network Authentication Required";
    default:
      return "";
  }
}

}  // namespace sluice::http::http1
