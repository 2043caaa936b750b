/**
 * Core's hints and fixes are written in a little Markdown (`code`, **bold**, links). This renders
 * them with micromark (CommonMark), in its safe defaults: raw HTML in a hint is shown as text, never
 * injected, and `javascript:`/`data:` link targets are dropped.
 */
import { micromark } from 'micromark';

/** One line of Markdown as inline HTML (no surrounding paragraph). Safe for `v-html`. */
export function renderInlineMarkdown(text: string): string {
  const html = micromark(text, { allowDangerousHtml: false, allowDangerousProtocol: false }).trim();
  const inner = /^<p>([\s\S]*)<\/p>$/.exec(html)?.[1];
  return inner !== undefined && !inner.includes('<p>') ? inner : html;
}
