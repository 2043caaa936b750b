import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseBatch, parseCsv, recipients, render, serializeBatch } from '../src/batch.js';
import { createProgressBar } from '../src/progress.js';

describe('batch files', () => {
  it('parses RFC 4180 CSV: BOM, CRLF, quotes, escaped quotes, line breaks inside fields', () => {
    const text = '\uFEFFto,note\r\na@x.com,"hello, ""world"""\r\nb@x.com,"two\nlines"\r\n\r\n';
    expect(parseCsv(text).records).toEqual([
      ['to', 'note'],
      ['a@x.com', 'hello, "world"'],
      ['b@x.com', 'two\nlines'],
    ]);
    const batch = parseBatch('x.csv', text);
    expect(batch.lines).toEqual([2, 3]);
    expect(batch.rows[1]).toEqual({ to: 'b@x.com', note: 'two\nlines' });
  });

  it('round-trips rows through the retry format (CSV and JSONL)', () => {
    const csv = parseBatch('a.csv', 'to,name\n" x@y.com","O\'Brien, ""Q"""\n');
    expect(csv.rows).toEqual([{ to: ' x@y.com', name: 'O\'Brien, "Q"' }]);
    const again = parseBatch('a.csv', serializeBatch('csv', csv.columns, csv.rows));
    expect(again.rows).toEqual(csv.rows);
    const jsonl = parseBatch('a.jsonl', '{"to":["a@x.com"],"n":1}\n\n{"to":"b@x.com","n":2}\n');
    expect(parseBatch('a.jsonl', serializeBatch('jsonl', jsonl.columns, jsonl.rows)).rows).toEqual(
      jsonl.rows,
    );
  });

  it('refuses ragged CSV rows and broken JSONL with the line number', () => {
    expect(() => parseBatch('a.csv', 'to,name\na@x.com\n')).toThrow(
      'a.csv line 2: 1 fields, the header has 2',
    );
    expect(() => parseBatch('a.jsonl', '{"to":"a@x.com"}\nnot json\n')).toThrow(
      'a.jsonl line 2 is not valid JSON',
    );
  });

  it('templating fills {{field}}, HTML-escaping values in HTML bodies', () => {
    const row = { name: '<Eve & "Co">', n: 3 };
    expect(render('Hi {{ name }}, #{{n}}', row)).toBe('Hi <Eve & "Co">, #3');
    expect(render('<p>{{name}}</p>', row, true)).toBe('<p>&lt;Eve &amp; &quot;Co&quot;&gt;</p>');
  });

  it('splits recipient cells on commas and semicolons', () => {
    expect(recipients('a@x.com; b@x.com,c@x.com')).toEqual(['a@x.com', 'b@x.com', 'c@x.com']);
    expect(recipients(['a@x.com'])).toEqual(['a@x.com']);
    expect(recipients('')).toEqual([]);
  });
});

describe('progress bar', () => {
  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    const stream = Object.assign(
      new Writable({
        write(chunk, _enc, cb) {
          chunks.push(String(chunk));
          cb();
        },
      }),
      { isTTY, columns: 80 },
    );
    return { stream, chunks };
  };

  it('draws on a TTY and clears the line at the end', () => {
    const { stream, chunks } = sink(true);
    let t = 0;
    const bar = createProgressBar(stream, 4, { enabled: true, now: () => (t += 1000) });
    bar.update(2, '1 failed');
    bar.update(4);
    bar.stop();
    expect(chunks[0]).toMatch(/^\r\u001b\[2K█+░+ 2\/4 · \d+\/min · 1 failed$/);
    expect(chunks[1]).toContain(' 4/4');
    expect(chunks.at(-1)).toBe('\r\u001b[2K');
  });

  it('is silent on pipes and when disabled', () => {
    const pipe = sink(false);
    createProgressBar(pipe.stream, 4, { enabled: true }).update(1);
    const tty = sink(true);
    createProgressBar(tty.stream, 4, { enabled: false }).update(1);
    expect([...pipe.chunks, ...tty.chunks]).toEqual([]);
  });
});
