/**
 * A raw POST to a token endpoint with client_secret_basic, for what an RP library will not send
 * (replays, concurrent redemptions, another replica's endpoint, malformed bodies).
 */
export async function postToken(
  base: string,
  client: { id: string; secret: string },
  body: string | Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> & { error?: string; error_description?: string } }> {
  const res = await fetch(`${base}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
      ...headers,
    },
    body: typeof body === 'string' ? body : new URLSearchParams(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}
