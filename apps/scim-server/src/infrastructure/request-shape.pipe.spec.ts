import { InvalidCommand } from '@app/identity';
import { RequestShapePipe } from './request-shape.pipe';

class SomeDto {
  name?: string;
}

describe('RequestShapePipe', () => {
  const pipe = new RequestShapePipe();
  const query = (value: unknown, data?: string) => () => pipe.transform(value, { type: 'query', ...(data ? { data } : {}) });

  it('refuses repeated, array-valued and case-twin query parameters, naming a plain name only', () => {
    expect(query({ sortOrder: ['a', 'b'] })).toThrow(expect.objectContaining({ attribute: 'sortOrder' }));
    expect(query({ filter: 'a', FILTER: 'b' })).toThrow(InvalidCommand);
    expect(query(['a', 'b'], 'q')).toThrow(expect.objectContaining({ attribute: 'q' }));
    expect(query({ 'x"<script>': ['1', '2'] })).toThrow(expect.objectContaining({ attribute: 'a query parameter' }));
    expect(query({ filter: 'a', count: '1' })()).toEqual({ filter: 'a', count: '1' });
    expect(query('a', 'q')()).toBe('a');
  });

  it('requires a JSON object for a DTO body and leaves untyped bodies alone', () => {
    const body = (value: unknown, metatype: unknown) => () => pipe.transform(value, { type: 'body', metatype: metatype as never });
    for (const bad of [undefined, null, [], 'x', 5]) expect(body(bad, SomeDto)).toThrow(InvalidCommand);
    expect(body({ name: 'a' }, SomeDto)()).toEqual({ name: 'a' });
    expect(body(undefined, Object)()).toBeUndefined();
    expect(body([1], Object)()).toEqual([1]);
  });
});
