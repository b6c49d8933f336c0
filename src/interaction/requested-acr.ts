/** The acr values a request asks for: acr_values, or claims.id_token.acr (essential or not). */
export interface RequestedAcr {
  values: string[];
  essential: boolean;
}

interface AcrClaim {
  essential?: boolean;
  value?: string;
  values?: string[];
}

function acrClaim(claims: unknown): AcrClaim | undefined {
  if (typeof claims === 'string') {
    try {
      claims = JSON.parse(claims);
    } catch {
      return undefined;
    }
  }
  const acr = (claims as { id_token?: { acr?: unknown } } | undefined)?.id_token?.acr;
  return acr && typeof acr === 'object' ? (acr as AcrClaim) : undefined;
}

export function requestedAcr(params: Record<string, unknown>): RequestedAcr {
  const claim = acrClaim(params.claims);
  const fromClaim = [...(claim?.value ? [claim.value] : []), ...(Array.isArray(claim?.values) ? claim.values : [])];
  const fromParam = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  return { values: [...new Set([...fromClaim, ...fromParam])], essential: claim?.essential === true };
}
