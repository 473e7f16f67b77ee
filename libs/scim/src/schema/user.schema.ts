import { attr, multi, str } from './attribute-builders';
import type { SchemaDefinition } from './schema.types';

export const USER_SCHEMA_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** RFC 7643 §4.1, the core User schema. */
export const USER_SCHEMA: SchemaDefinition = {
  id: USER_SCHEMA_URN,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', 'Unique identifier for the User, typically used by the user to directly authenticate to the service provider.', {
      required: true,
      uniqueness: 'server',
    }),
    attr('name', 'complex', "The components of the user's real name.", {
      subAttributes: [
        str('formatted', 'The full name, including all middle names, titles, and suffixes as appropriate, formatted for display.'),
        str('familyName', 'The family name of the User.'),
        str('givenName', 'The given name of the User.'),
        str('middleName', 'The middle name(s) of the User.'),
        str('honorificPrefix', 'The honorific prefix(es) of the User.'),
        str('honorificSuffix', 'The honorific suffix(es) of the User.'),
      ],
    }),
    str('displayName', 'The name of the User, suitable for display to end-users.'),
    str('nickName', 'The casual way to address the user in real life.'),
    attr('profileUrl', 'reference', "A fully qualified URL pointing to a page representing the User's online profile.", { referenceTypes: ['external'] }),
    str('title', "The user's title, such as \"Vice President\"."),
    str('userType', 'Used to identify the relationship between the organization and the user.'),
    str('preferredLanguage', "Indicates the User's preferred written or spoken language."),
    str('locale', "Used to indicate the User's default location for purposes of localizing items."),
    str('timezone', "The User's time zone in the 'Olson' time zone database format."),
    attr('active', 'boolean', "A Boolean value indicating the User's administrative status."),
    str('password', "The User's cleartext password. Accepted on write, never stored or returned.", { mutability: 'writeOnly', returned: 'never' }),
    multi('emails', 'Email addresses for the user.', ['work', 'home', 'other']),
    multi('phoneNumbers', 'Phone numbers for the User.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    multi('ims', 'Instant messaging addresses for the User.', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
    multi('photos', 'URLs of photos of the User.', ['photo', 'thumbnail'], { valueType: 'reference', valueReferenceTypes: ['external'] }),
    attr('addresses', 'complex', 'A physical mailing address for this User.', {
      multiValued: true,
      subAttributes: [
        str('formatted', 'The full mailing address, formatted for display or use with a mailing label.'),
        str('streetAddress', 'The full street address component.'),
        str('locality', 'The city or locality component.'),
        str('region', 'The state or region component.'),
        str('postalCode', 'The zip code or postal code component.'),
        str('country', 'The country name component.'),
        str('type', 'A label indicating the address function.', { canonicalValues: ['work', 'home', 'other'] }),
        attr('primary', 'boolean', 'Indicates the primary or preferred address.'),
      ],
    }),
    multi('groups', "A list of groups to which the user belongs, either through direct membership or nested groups.", ['direct', 'indirect'], {
      mutability: 'readOnly',
      extra: [attr('$ref', 'reference', 'The URI of the corresponding Group resource.', { mutability: 'readOnly', referenceTypes: ['Group'] })],
    }),
    multi('entitlements', 'A list of entitlements for the User.', []),
    multi('roles', 'A list of roles for the User.', []),
    multi('x509Certificates', 'A list of certificates issued to the User.', [], { valueType: 'binary' }),
  ],
};
