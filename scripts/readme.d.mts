// Types of scripts/readme.mjs, for test/e2e/readme-snippets.e2e-spec.ts.
export type Transport = 'ws' | 'socket.io';
export interface ReadmeFile {
  readonly path: string;
  readonly code: string;
  readonly line: number;
}
export interface ReadmeBlock {
  readonly transport: Transport | null;
  readonly lang: string;
  readonly code: string;
  readonly file: string | null;
  readonly line: number;
}
export declare const TRANSPORTS: readonly Transport[];
export declare class ReadmeError extends Error {}
export declare function section(readme: string, heading: string): { text: string; line: number };
export declare function blocks(section: { text: string; line: number }): ReadmeBlock[];
export declare function installArgs(readme: string, app: { transport: Transport; nest: number }): string[];
export declare function quickStartFiles(readme: string, transport: Transport): ReadmeFile[];
export declare function esmNote(readme: string): string;
export declare function toEsm(code: string): string;
export declare function testingExample(readme: string, transport: Transport): ReadmeFile;
export declare function testingDevDependencies(readme: string, transport: Transport): string[];
export declare function existingTestAdapter(readme: string, transport: Transport): { statement: string; importLine: string };
export declare function withAdapter(spec: string, adapter: { statement: string; importLine: string }): string;
