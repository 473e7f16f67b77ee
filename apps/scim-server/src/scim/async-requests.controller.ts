import { Controller, Get, Param, Res, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { GetAsyncRequestQuery, type AsyncRequestState } from '@app/events';
import { ScimError } from '@app/scim';
import { ScimAuthGuard } from '../infrastructure/scim-auth.guard';
import { requestState, Scim, type ScimRequest } from '../infrastructure/request-context';
import { isUuid, scimPaths } from './scim-paths';

const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

/**
 * The result of an asynchronous request (the 202's `Location`), for the token that made it
 * only: any other token, of this scope or another, gets the 404 an unknown request gets.
 * Completed: 200 with a BulkResponse holding one operation per operation (one for a single
 * request), as the `misc:asyncresp` events carry them. Still running: 202, no body.
 */
@Controller('api/scim/v2')
@UseGuards(ScimAuthGuard)
export class AsyncRequestsController {
  constructor(private readonly queries: QueryBus) {}

  @Get(scimPaths('AsyncRequests/:txn'))
  async result(@Scim() scim: ScimRequest, @Param('txn') txn: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const state: AsyncRequestState = isUuid(txn) ? await this.queries.execute(new GetAsyncRequestQuery(txn)) : { status: 'unknown' };
    const tokenId = requestState(scim.req).principal?.tokenId;
    if (state.status === 'unknown' || state.request.scope !== scim.scope || state.request.tokenId !== tokenId) {
      throw new ScimError(404, undefined, `No asynchronous request ${txn} of this token`);
    }
    void reply.header('Set-Txn', txn);
    if (state.status === 'pending') {
      void reply.status(202).header('Retry-After', '1');
      return undefined;
    }
    return {
      schemas: [BULK_RESPONSE],
      Operations: state.outcome.operations.map((op) => Object.fromEntries(Object.entries(op).filter(([, v]) => v !== null))),
    };
  }
}
