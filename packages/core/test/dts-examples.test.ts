import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/**
 * Names an example may use without defining them: the values a reader has at hand (their JSON
 * config, a secret from their vault). Everything else must come from the package.
 */
const PLACEHOLDERS = `
declare const json: unknown;
declare const input: unknown;
declare const config: import('../dist/index.js').EmailServerConfig;
declare const pfxBase64: string;
declare const clientId: string;
declare const secret: string;
declare const tenant: string;
declare const credential: import('../dist/index.js').CredentialConfig;
`;

async function declarationFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await declarationFiles(path)));
    else if (entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The `@example` blocks of every TSDoc comment in a declaration file, code fences removed. */
function examplesOf(text: string): string[] {
  const examples: string[] = [];
  for (const comment of text.match(/\/\*\*[\s\S]*?\*\//g) ?? []) {
    const lines = comment
      .replace(/^\/\*\*|\*\/$/g, '')
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, ''));
    let current: string[] | undefined;
    for (const line of lines) {
      if (/^@example\b/.test(line)) {
        if (current) examples.push(current.join('\n'));
        current = [line.replace(/^@example\s*/, '')];
      } else if (/^@\w+/.test(line)) {
        if (current) examples.push(current.join('\n'));
        current = undefined;
      } else current?.push(line);
    }
    if (current) examples.push(current.join('\n'));
  }
  return examples.map((e) => e.replace(/^```\w*$/gm, '').trim()).filter(Boolean);
}

describe('the @example blocks of the emitted .d.ts compile', () => {
  it('type-checks every example against the built package', async () => {
    const files = await declarationFiles(dist);
    const examples: { file: string; code: string }[] = [];
    for (const file of files)
      for (const code of examplesOf(await readFile(file, 'utf8'))) examples.push({ file, code });
    expect(examples.length).toBeGreaterThan(5);

    const values = Object.keys(await import('../dist/index.js'));
    const sources = new Map<string, string>();
    examples.forEach(({ code }, i) => {
      sources.set(
        join(root, 'test', `__example_${i}.ts`),
        `import * as core from '../dist/index.js';\nconst { ${values.join(', ')} } = core;\n${PLACEHOLDERS}\nexport async function example() {\n${code}\n}\n`,
      );
    });
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2023,
      lib: ['lib.es2023.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      noUnusedLocals: false,
    };
    const host = ts.createCompilerHost(options);
    const { getSourceFile, fileExists, readFile: hostRead } = host;
    host.fileExists = (f) => sources.has(f) || fileExists.call(host, f);
    host.readFile = (f) => sources.get(f) ?? hostRead.call(host, f);
    host.getSourceFile = (f, lang, ...rest) => {
      const text = sources.get(f);
      return text !== undefined
        ? ts.createSourceFile(f, text, lang)
        : getSourceFile.call(host, f, lang, ...rest);
    };
    const program = ts.createProgram([...sources.keys()], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && sources.has(d.file.fileName))
      .map((d) => {
        const index = Number(/__example_(\d+)/.exec(d.file?.fileName ?? '')?.[1]);
        const example = examples[index];
        return `${example?.file.slice(dist.length + 1)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}\n${example?.code}`;
      });
    expect(problems, problems.join('\n\n')).toEqual([]);
  }, 120_000);
});
