import { createHmac } from 'node:crypto';
import { TEST_SECRET } from './tokens.js';

/**
 * A correctly signed HS256 JWS with the exact header and payload text given:
 * what jsonwebtoken's `sign` refuses to produce (payloads that are not
 * objects, unknown `crit` extensions).
 */
export function signRaw(payloadJson: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, secret = TEST_SECRET): string {
  const signingInput = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(payloadJson).toString('base64url')}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}
