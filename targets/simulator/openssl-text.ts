// OpenSSL's ERR_error_string form ("error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert
// handshake failure"), which the C SDK logs, cut out of a Node error message (Node prefixes a
// thread id and appends the source file, line and alert number).

const ERR_STRING = /error:[0-9A-Fa-f]{8}:[^:\n]*:[^:\n]*:[^:\n]*/;

export function opensslText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return ERR_STRING.exec(message)?.[0] ?? message.trim();
}
