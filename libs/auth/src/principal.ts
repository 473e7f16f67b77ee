import type { ManagementRole } from './token.events';

export type Principal =
  | {
      readonly kind: 'scim';
      readonly tokenId: string;
      readonly scope: string;
      readonly sha256Prefix: string;
    }
  | {
      readonly kind: 'management';
      readonly tokenId: string;
      readonly role: ManagementRole;
      readonly pii: boolean;
      readonly sha256Prefix: string;
    };
