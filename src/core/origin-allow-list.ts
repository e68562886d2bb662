import { WsAuthConfigurationError } from './ws-auth.exceptions.js';

/**
 * The browser origins allowed to open a connection (RFC 6454 serialisation,
 * compared exactly). `null` and look-alike hosts never match; a request without
 * an `Origin` header is not from a browser and passes.
 */
export class OriginAllowList {
  private constructor(private readonly origins: ReadonlySet<string>) {}

  /** Validates `allowedOrigins` at start-up. */
  static parse(entries: readonly string[]): OriginAllowList {
    if (!Array.isArray(entries)) {
      throw new WsAuthConfigurationError(
        `allowedOrigins must be an array of origins, e.g. ['https://app.example.com'].`,
      );
    }
    return new OriginAllowList(new Set(entries.map((entry, index) => normalise(entry, index))));
  }

  allows(origin: string | undefined): boolean {
    return origin === undefined || this.origins.has(origin.toLowerCase());
  }
}

function normalise(entry: unknown, index: number): string {
  const where = `allowedOrigins[${index}]`;
  if (typeof entry !== 'string' || entry.includes('*')) {
    throw new WsAuthConfigurationError(
      `${where} must be one origin such as 'https://app.example.com' (no wildcards: list each origin).`,
    );
  }
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new WsAuthConfigurationError(`${where} '${entry}' is not a URL; write it as scheme://host[:port].`);
  }
  const isBareOrigin =
    url.origin !== 'null' && !url.username && !url.password && url.pathname === '/' && !url.search && !url.hash;
  if (!isBareOrigin || !/^[a-z][a-z\d+.-]*:\/\/[^/?#]+\/?$/i.test(entry)) {
    throw new WsAuthConfigurationError(
      `${where} '${entry}' is not a bare origin; write it as scheme://host[:port], without path, query or credentials.`,
    );
  }
  return url.origin;
}
