import { describe, expect, it } from 'vitest';
import { BoundedLabel, OTHER_LABEL } from '../../src/telemetry/labels.ts';

describe('BoundedLabel', () => {
  it('caps request-supplied values, but reserved (configured) values always pass', () => {
    const label = new BoundedLabel(3);
    label.reserve(['gpt-4o']);
    for (const junk of ['junk-1', 'junk-2', 'junk-3']) expect(label.get(junk)).toBe(junk);
    expect(label.get('junk-4')).toBe(OTHER_LABEL);
    // Reserved after the flood filled the bound (a gateway built after others in one process).
    label.reserve(['gpt-4o-mini']);
    expect(label.get('gpt-4o')).toBe('gpt-4o');
    expect(label.get('gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(label.get('junk-5')).toBe(OTHER_LABEL);
  });
});
