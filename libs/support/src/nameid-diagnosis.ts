import { foldValue } from '@app/identity';
import type { AccountState } from '@app/identity';
import { ERASED_VALUE, type IdentifierSpan } from './identifier-history.projection';

export interface NameIdFinding {
  readonly code: 'erased' | 'exact_match' | 'case_only_mismatch' | 'no_match' | 'externalid_changed' | 'previously_held_by_other' | 'identity_inactive' | 'identity_deleted' | 'email_moved' | 'matches_username_not_nameid';
  readonly message: string;
  readonly identityId?: string;
  readonly accountId?: string;
  readonly from?: string;
  readonly to?: string;
  readonly at?: string;
}

/**
 * Why a SAML sign-in with this NameID works or not: which identity it matches exactly, or
 * only by case (GitLab then says "User has already been taken" and "Extern uid has already
 * been taken" together), whether the externalId was changed, whether the value belonged to
 * someone else before, whether the identity is deactivated or deleted, and whether an email
 * moved to another account.
 */
export function diagnoseNameId(
  nameId: string,
  allSpans: readonly IdentifierSpan[],
  accounts: ReadonlyMap<string, AccountState>,
): NameIdFinding[] {
  const findings: NameIdFinding[] = [];
  // An erased person's identifiers survive only as keyed hashes (their value reads "[erased]").
  for (const s of allSpans.filter((x) => x.value === ERASED_VALUE && (x.kind === 'nameId' || x.kind === 'externalId' || x.kind === 'userName'))) {
    if (findings.some((f) => f.code === 'erased' && f.accountId === s.accountId)) continue;
    findings.push({
      code: 'erased',
      message: `This value was held by a person whose personal data was erased (account ${s.accountId}) until ${s.to}. Their identities are gone: an IdP that provisions them again creates a new identity.`,
      accountId: s.accountId,
      identityId: s.identityId ?? undefined,
      at: s.to ?? undefined,
    });
  }
  const spans = allSpans.filter((x) => x.value !== ERASED_VALUE);
  const current = spans.filter((s) => s.kind === 'nameId' && s.to === null);
  const exact = current.find((s) => s.value === nameId);
  const caseOnly = current.find((s) => s.value !== nameId && foldValue(s.value) === foldValue(nameId));
  if (exact) {
    findings.push({ code: 'exact_match', message: 'The NameID matches this identity exactly: sign-in can find it.', identityId: exact.identityId ?? undefined, accountId: exact.accountId });
  } else if (caseOnly) {
    findings.push({
      code: 'case_only_mismatch',
      message: `The NameID differs only in letter case from the stored value "${caseOnly.value}". The IdP must send it exactly as stored, or support changes the externalId (remediation: change-external-id).`,
      identityId: caseOnly.identityId ?? undefined,
      accountId: caseOnly.accountId,
    });
  } else {
    findings.push({ code: 'no_match', message: 'No identity currently has this NameID.' });
    const byUserName = spans.find((s) => s.kind === 'userName' && s.to === null);
    if (byUserName) {
      findings.push({
        code: 'matches_username_not_nameid',
        message: 'The value is a current userName, but the identity\'s SAML NameID (its externalId) is different: the IdP sends the wrong attribute as NameID, or externalId must be set to it.',
        identityId: byUserName.identityId ?? undefined,
        accountId: byUserName.accountId,
      });
    }
  }
  const live = exact ?? caseOnly;
  for (const s of spans.filter((x) => x.kind === 'nameId' && x.to !== null)) {
    if (live && s.accountId !== live.accountId) {
      findings.push({ code: 'previously_held_by_other', message: `This NameID belonged to another account from ${s.from} to ${s.to}.`, accountId: s.accountId, identityId: s.identityId ?? undefined, from: s.from, to: s.to ?? undefined });
    } else if (!live || s.accountId === live.accountId) {
      const next = spans.find((x) => x.kind === 'nameId' && x.identityId === s.identityId && x.from === s.to);
      findings.push({
        code: 'externalid_changed',
        message: `The identity's externalId/NameID was changed from "${s.value}"${next ? ` to "${next.value}"` : ''} at ${s.to}: an IdP still sending the old value no longer matches.`,
        identityId: s.identityId ?? undefined,
        accountId: s.accountId,
        from: s.value,
        ...(next ? { to: next.value } : {}),
        at: s.to ?? undefined,
      });
    }
  }
  if (live?.identityId) {
    const identity = accounts.get(live.accountId)?.identities[live.identityId];
    if (identity?.deleted) findings.push({ code: 'identity_deleted', message: 'The identity was deleted through SCIM: a POST from the IdP (or remediation: reactivate) brings it back with the same id.', identityId: identity.id, accountId: live.accountId });
    else if (identity && !identity.active) findings.push({ code: 'identity_inactive', message: 'The identity is deactivated: reactivate it in the IdP (active: true) or with remediation: reactivate.', identityId: identity.id, accountId: live.accountId });
  }
  for (const s of spans.filter((x) => x.kind === 'email' && x.to !== null)) {
    const holder = spans.find((x) => x.kind === 'email' && x.to === null && x.accountId !== s.accountId);
    if (holder) findings.push({ code: 'email_moved', message: `This value was the email of account ${s.accountId} until ${s.to}; it now belongs to account ${holder.accountId}.`, accountId: holder.accountId, at: s.to ?? undefined });
  }
  return findings;
}

/** The NameID of a SAML response (base64 XML), without a full XML parser: one element's text. */
export function nameIdFromSamlResponse(b64: string): string | undefined {
  const xml = Buffer.from(b64, 'base64').toString('utf8');
  const m = /<(?:[A-Za-z0-9_-]+:)?NameID\b[^>]*>([^<]+)<\/(?:[A-Za-z0-9_-]+:)?NameID>/.exec(xml);
  return m?.[1].trim();
}
