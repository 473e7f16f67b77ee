import 'reflect-metadata';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { AsyncRequestInterceptor } from './async/async-request.interceptor';
import { GroupsController } from './groups.controller';
import { UsersController } from './users.controller';

// An interceptor turns a route's response into an rxjs pipeline; reads must not pay for one
// that only writes use (`Prefer: respond-async`).
const interceptorsOf = (target: object): unknown[] => (Reflect.getMetadata(INTERCEPTORS_METADATA, target) as unknown[] | undefined) ?? [];

describe('SCIM read routes carry no interceptor; writes keep the asynchronous-request one', () => {
  it.each([
    ['Users', UsersController],
    ['Groups', GroupsController],
  ] as const)('%s', (_name, controller) => {
    expect(interceptorsOf(controller)).toEqual([]);
    const proto = controller.prototype as unknown as Record<string, object>;
    for (const read of ['get', 'list']) expect(interceptorsOf(proto[read]!)).toEqual([]);
    for (const write of ['create', 'replace', 'patch', 'remove']) expect(interceptorsOf(proto[write]!)).toEqual([AsyncRequestInterceptor]);
  });
});
