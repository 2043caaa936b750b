import { describe, expect, it } from 'vitest';
import { renderInlineMarkdown } from '../src/lib/markdown.js';

describe('hints in Markdown', () => {
  it('renders code spans, emphasis and links', () => {
    expect(renderInlineMarkdown('must not include the port; set `port` separately')).toBe(
      'must not include the port; set <code>port</code> separately',
    );
    expect(renderInlineMarkdown('**Fix:** see [the docs](https://learn.microsoft.com/x)')).toBe(
      '<strong>Fix:</strong> see <a href="https://learn.microsoft.com/x">the docs</a>',
    );
  });

  it('never injects raw HTML or script URLs', () => {
    const html = renderInlineMarkdown(
      '<img src=x onerror=alert(1)> [x](javascript:alert(1)) <script>1</script>',
    );
    expect(html).not.toMatch(/<img|<script|href="javascript:/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
