import { InvalidInputError } from '../../common/errors';
import { decodeCursor, encodeCursor, etagMatches } from './capps.service';

describe('ETags', () => {
  it('matches quoted, weak, bare and wildcard If-Match values against the version', () => {
    expect(etagMatches('"3"', 3)).toBe(true);
    expect(etagMatches('W/"3"', 3)).toBe(true);
    expect(etagMatches('3', 3)).toBe(true);
    expect(etagMatches('*', 7)).toBe(true);
    expect(etagMatches('"1", "3"', 3)).toBe(true);
    expect(etagMatches('"2"', 3)).toBe(false);
  });
});

describe('list cursors', () => {
  it('round-trip a (namespace, name) position and refuse anything else as a named 400', () => {
    expect(decodeCursor(encodeCursor({ namespace: 'team-a', name: 'web' }))).toEqual({
      namespace: 'team-a',
      name: 'web',
    });
    expect(() => decodeCursor('garbage')).toThrow(InvalidInputError);
    expect(() => decodeCursor(Buffer.from('[1,2]').toString('base64url'))).toThrow(/continue token/);
  });
});
