// The raw requests of the differential check: every rule of issue 6 point 1
// and the classic smuggling shapes. Each is [name, bytes]. A second request
// after a body ("/smuggled") shows whether a proxy split the stream
// differently from the bytes' framing.
const H = 'Host: example\r\n';
const S = 'GET /smuggled HTTP/1.1\r\nHost: example\r\n\r\n';

export const kVectors = [
  // Baselines
  ['plain GET', `GET / HTTP/1.1\r\n${H}\r\n`],
  ['POST with Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`],
  ['POST chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
  ['two pipelined GETs', `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}\r\n`],
  ['HTTP/1.0 GET', `GET / HTTP/1.0\r\n${H}\r\n`],

  // CL.TE / TE.CL
  ['CL.TE', `POST / HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${S}`],
  // A CL-framing hop reads "27\r\n" as the body and S as a second request.
  ['TE.CL', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${S.length.toString(16)}\r\n${S}\r\n0\r\n\r\n`],
  ['TE.CL, CL first and long', `POST / HTTP/1.1\r\n${H}Content-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${S}`],

  // TE.TE obfuscations
  ['TE: Chunked (case)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`],
  ['TE: CHUNKED + CL', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: CHUNKED\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${S}`],
  ['TE: xchunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${S}`],
  ['TE: space before colon', `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${S}`],
  ['TE: tab before value', `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n${S}`],
  ['TE: chunked twice (list)', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n${S}`],
  ['TE: chunked, identity', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${S}`],
  ['TE: identity, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n${S}`],
  ['TE: gzip, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${S}`],
  ['TE: gzip only', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n${S}`],
  ['TE: two fields chunked + x', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n${S}`],
  ['TE: obs-fold value', `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${S}`],
  ['TE: quoted "chunked"', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n${S}`],
  ['TE: chunked + vertical tab', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n${S}`],
  ['TE on HTTP/1.0', `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${S}`],
  ['TE: empty value', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \r\nContent-Length: 4\r\n\r\n0\r\n\r\n${S}`],

  // Content-Length
  ['CL: two equal fields', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`],
  ['CL: two different fields', `POST / HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 39\r\n\r\n${S}`],
  ['CL: list of equal values', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`],
  ['CL: list of different values', `POST / HTTP/1.1\r\n${H}Content-Length: 0, 39\r\n\r\n${S}`],
  ['CL: +5', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`],
  ['CL: -1', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n${S}`],
  ['CL: 0x5', `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`],
  ['CL: "5 5"', `POST / HTTP/1.1\r\n${H}Content-Length: 5 5\r\n\r\nhello`],
  ['CL: empty', `POST / HTTP/1.1\r\n${H}Content-Length: \r\n\r\n${S}`],
  ['CL: overflow', `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\n${S}`],
  ['CL: leading zeros', `POST / HTTP/1.1\r\n${H}Content-Length: 0005\r\n\r\nhello`],
  ['CL: space before colon', `POST / HTTP/1.1\r\n${H}Content-Length : 39\r\n\r\n${S}`],

  // Chunk sizes and chunk framing
  ['chunk size 0x5', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`],
  ['chunk size -5', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`],
  ['chunk size with leading space', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n`],
  ['chunk size with trailing space', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`],
  ['chunk size overflow', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1000000000000000000005\r\nhello\r\n0\r\n\r\n`],
  ['chunk size empty', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n`],
  ['chunk extension', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n`],
  ['chunk data longer than size', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`],
  ['chunk lines with bare LF', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n`],
  ['last chunk then smuggled', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${S}`],
  ['trailer with Content-Length', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 39\r\n\r\n`],

  // Line ends and bytes
  ['bare LF line ends', `GET / HTTP/1.1\n${H.replace('\r\n', '\n')}\n`],
  ['bare LF after request line only', `GET / HTTP/1.1\n${H}\r\n`],
  ['bare CR in a value', `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`],
  ['bare CR as line end', `GET / HTTP/1.1\r${H}\r\n`],
  ['obs-fold in a header', `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`],
  ['space before first header', `GET / HTTP/1.1\r\n ${H}\r\n`],
  ['NUL in a value', `GET / HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`],
  ['NUL in a name', `GET / HTTP/1.1\r\n${H}X-\0A: b\r\n\r\n`],
  ['control char in a value', `GET / HTTP/1.1\r\n${H}X-A: a\x01b\r\n\r\n`],
  ['DEL in a value', `GET / HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n`],
  ['obs-text in a value', `GET / HTTP/1.1\r\n${H}X-A: caf\xe9\r\n\r\n`],
  ['non-token name', `GET / HTTP/1.1\r\n${H}X(A): b\r\n\r\n`],
  ['space before colon (other header)', `GET / HTTP/1.1\r\n${H}X-A : b\r\n\r\n`],
  ['empty header name', `GET / HTTP/1.1\r\n${H}: b\r\n\r\n`],
  ['header without colon', `GET / HTTP/1.1\r\n${H}X-A b\r\n\r\n`],
  ['leading empty line', `\r\nGET / HTTP/1.1\r\n${H}\r\n`],
  ['underscore in a name', `GET / HTTP/1.1\r\n${H}X_Under: 1\r\n\r\n`],

  // Sizes
  ['huge header (70 KiB)', `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`],
  ['large header (50 KiB)', `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(50 * 1024)}\r\n\r\n`],
  ['150 headers', `GET / HTTP/1.1\r\n${H}${Array.from({ length: 150 }, (_, i) => `X-H${i}: ${i}\r\n`).join('')}\r\n`],
  ['long URI (70 KiB)', `GET /${'a'.repeat(70 * 1024)} HTTP/1.1\r\n${H}\r\n`],

  // Request line
  ['absolute-form', 'GET http://example/abs?q=1 HTTP/1.1\r\nHost: example\r\n\r\n'],
  ['absolute-form, other Host', 'GET http://other/abs HTTP/1.1\r\nHost: example\r\n\r\n'],
  ['authority-form GET', `GET example:80 HTTP/1.1\r\n${H}\r\n`],
  ['asterisk-form OPTIONS', `OPTIONS * HTTP/1.1\r\n${H}\r\n`],
  ['asterisk-form GET', `GET * HTTP/1.1\r\n${H}\r\n`],
  ['two spaces after method', `GET  / HTTP/1.1\r\n${H}\r\n`],
  ['tab as separator', `GET\t/ HTTP/1.1\r\n${H}\r\n`],
  ['trailing space after version', `GET / HTTP/1.1 \r\n${H}\r\n`],
  ['no version (HTTP/0.9)', 'GET /\r\n\r\n'],
  ['HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`],
  ['HTTP/2.0', `GET / HTTP/2.0\r\n${H}\r\n`],
  ['HTTP/1.10', `GET / HTTP/1.10\r\n${H}\r\n`],
  ['lowercase http/1.1', `GET / http/1.1\r\n${H}\r\n`],
  ['bad method token', `G@T / HTTP/1.1\r\n${H}\r\n`],
  ['lowercase method', `get / HTTP/1.1\r\n${H}\r\n`],
  ['space in target', `GET /a b HTTP/1.1\r\n${H}\r\n`],
  ['non-ASCII in target', `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`],
  ['fragment in target', `GET /a#frag HTTP/1.1\r\n${H}\r\n`],
  ['dot segments in target', `GET /a/../b HTTP/1.1\r\n${H}\r\n`],

  // Host
  ['no Host on HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n'],
  ['two Host fields', `GET / HTTP/1.1\r\n${H}Host: other\r\n\r\n`],
  ['Host with a space', 'GET / HTTP/1.1\r\nHost: exa mple\r\n\r\n'],
  ['Host with a path', 'GET / HTTP/1.1\r\nHost: example/x\r\n\r\n'],

  // Other methods and expectations
  ['CONNECT', 'CONNECT example:443 HTTP/1.1\r\nHost: example:443\r\n\r\n'],
  ['Expect: 100-continue', `POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello`],
  ['GET with a body', `GET / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`],
];
