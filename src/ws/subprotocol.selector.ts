import type { IncomingMessage } from 'node:http';
import { isTokenProtocol } from '../core/credentials.extractor.js';

/** ws's `handleProtocols` option. */
export type HandleProtocols = (protocols: Set<string>, request: IncomingMessage) => string | false;

/**
 * ws would echo the first offered subprotocol, which may be `bearer.<token>`.
 * This picks the first offered protocol that is not a token entry (or hands the
 * rest to the gateway's own `handleProtocols`), so a token is never echoed. A
 * browser that offered only a token entry gets none back, and Chrome then fails
 * the handshake: clients offer an app protocol beside the token.
 */
export function selectProtocolWithoutToken(custom?: HandleProtocols): HandleProtocols {
  return (offered, request) => {
    let protocols = offered;
    for (const protocol of offered) {
      if (isTokenProtocol(protocol)) {
        protocols = new Set([...offered].filter((entry) => !isTokenProtocol(entry)));
        break;
      }
    }
    if (custom) {
      return custom(protocols, request);
    }
    const [first] = protocols;
    return first ?? false;
  };
}
