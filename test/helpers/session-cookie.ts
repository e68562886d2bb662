/**
 * POSTs to the session app (login, logout, visit) on `port`, expects 204, and
 * returns the session cookie it set (or the one sent, when it set none).
 */
export async function postForCookie(port: number, path: string, body: object = {}, cookie?: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie && { cookie }) },
    body: JSON.stringify(body),
  });
  if (response.status !== 204) {
    throw new Error(`POST ${path} answered ${response.status}, not 204`);
  }
  return (response.headers.get('set-cookie') ?? cookie ?? '').split(';')[0]!;
}
