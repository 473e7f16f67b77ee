import { findResourceType, findSchema, resourceTypes, schemas, serviceProviderConfig } from './discovery';

const BASE = 'https://scim.example/api/scim/v2/application';

describe('discovery documents', () => {
  it('ServiceProviderConfig advertises real capabilities and limits', () => {
    const spc = serviceProviderConfig({ baseUrl: BASE, maxResults: 500, maxOperations: 100, maxPayloadSize: 1048576 });
    expect(spc).toMatchObject({
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 100, maxPayloadSize: 1048576 },
      filter: { supported: true, maxResults: 500 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken', primary: true })],
      meta: { resourceType: 'ServiceProviderConfig', location: `${BASE}/ServiceProviderConfig` },
    });
  });

  it('ResourceTypes list User (with the enterprise extension) and Group', () => {
    const rt = resourceTypes(BASE);
    expect(rt.Resources.map((r) => r.id)).toEqual(['User', 'Group']);
    expect(findResourceType(BASE, 'user')?.schemaExtensions).toEqual([{ schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false }]);
    expect(findResourceType(BASE, 'nope')).toBeUndefined();
  });

  it('Schemas describe every attribute with all its characteristics', () => {
    const all = schemas(BASE);
    expect(all.Resources.map((s) => s.id)).toEqual(
      expect.arrayContaining([
        'urn:ietf:params:scim:schemas:core:2.0:User',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
        'urn:ietf:params:scim:schemas:core:2.0:Group',
        'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
        'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
        'urn:ietf:params:scim:schemas:core:2.0:Schema',
      ]),
    );
    const check = (a: Record<string, unknown>) => {
      for (const k of ['name', 'type', 'multiValued', 'description', 'required', 'caseExact', 'mutability', 'returned', 'uniqueness']) expect(a).toHaveProperty(k);
      for (const sub of (a.subAttributes as Record<string, unknown>[] | undefined) ?? []) check(sub);
    };
    for (const s of all.Resources) for (const a of s.attributes) check(a);
    const user = findSchema(BASE, 'URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER');
    const emails = user?.attributes.find((a) => a.name === 'emails') as { subAttributes: { name: string; canonicalValues?: string[] }[] };
    expect(emails.subAttributes.find((s) => s.name === 'type')?.canonicalValues).toEqual(['work', 'home', 'other']);
    expect(user?.attributes.find((a) => a.name === 'password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
  });

  it('ServiceProviderConfig.securityEvents says asynchronous requests happen on request and lists the event URIs, and /Schemas defines it', () => {
    const spc = serviceProviderConfig({ baseUrl: BASE, maxResults: 500, maxOperations: 100, maxPayloadSize: 1048576 });
    expect(spc.securityEvents.asyncRequest).toBe('request');
    expect(spc.securityEvents.eventUris).toEqual(
      expect.arrayContaining(['urn:ietf:params:scim:event:prov:create:notice', 'urn:ietf:params:scim:event:prov:delete', 'urn:ietf:params:scim:event:misc:asyncresp']),
    );
    const definition = findSchema(BASE, 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig')?.attributes.find((a) => a.name === 'securityEvents');
    expect(definition).toMatchObject({ type: 'complex', mutability: 'readOnly' });
    expect((definition?.subAttributes as { name: string; canonicalValues?: string[] }[]).map((a) => a.name)).toEqual(['asyncRequest', 'eventUris']);
    expect((definition?.subAttributes as { canonicalValues?: string[] }[])[0]?.canonicalValues).toEqual(['none', 'long', 'request']);
  });
});
