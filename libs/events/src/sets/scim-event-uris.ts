/** RFC 9967 event URIs (`urn:ietf:params:scim:event:…`) and the SSF events this server emits. */
const P = 'urn:ietf:params:scim:event:';

export const ScimEventUri = {
  createNotice: `${P}prov:create:notice`,
  createFull: `${P}prov:create:full`,
  putNotice: `${P}prov:put:notice`,
  putFull: `${P}prov:put:full`,
  patchNotice: `${P}prov:patch:notice`,
  patchFull: `${P}prov:patch:full`,
  delete: `${P}prov:delete`,
  activate: `${P}prov:activate`,
  deactivate: `${P}prov:deactivate`,
  feedAdd: `${P}feed:add`,
  feedRemove: `${P}feed:remove`,
  asyncResponse: `${P}misc:asyncresp`,
} as const;

/** OpenID SSF 1.0 §8.1.4: the verification event a receiver asks for. */
export const SSF_VERIFICATION_URI = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

/** Every URI a stream may request: `events_supported` in a stream's configuration. */
export const SUPPORTED_EVENT_URIS: readonly string[] = [...Object.values(ScimEventUri), SSF_VERIFICATION_URI];

/** What a stream delivers when it names no `events_requested`: the privacy default, `:notice` and no values. */
export const DEFAULT_EVENT_URIS: readonly string[] = [
  ScimEventUri.createNotice,
  ScimEventUri.putNotice,
  ScimEventUri.patchNotice,
  ScimEventUri.delete,
  ScimEventUri.activate,
  ScimEventUri.deactivate,
  ScimEventUri.feedAdd,
  ScimEventUri.feedRemove,
  ScimEventUri.asyncResponse,
];

/** The `:full` twin of a `:notice` URI (and back): a stream asks for either form of an event. */
export const FULL_OF_NOTICE: Readonly<Record<string, string>> = {
  [ScimEventUri.createNotice]: ScimEventUri.createFull,
  [ScimEventUri.putNotice]: ScimEventUri.putFull,
  [ScimEventUri.patchNotice]: ScimEventUri.patchFull,
};
