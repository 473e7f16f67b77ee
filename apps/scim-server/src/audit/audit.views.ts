import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FREE_OBJECT } from '../infrastructure/openapi';

export class AuditTargetView {
  @ApiProperty() type!: string;
  @ApiProperty() id!: string;
  @ApiPropertyOptional() identityId?: string;
}

export class AuditChangeView {
  @ApiProperty() path!: string;
  @ApiPropertyOptional() from?: unknown;
  @ApiPropertyOptional() to?: unknown;
}

/** One chained audit record (personal values masked unless the token may see them). */
export class AuditRecordView {
  @ApiProperty() id!: string;
  @ApiProperty() type!: string;
  @ApiProperty({ description: 'Global log position (a decimal string)' }) position!: string;
  @ApiProperty() stream!: string;
  @ApiProperty() revision!: string;
  @ApiProperty({ description: '`application`, `group:<id>` or `instance`' }) scope!: string;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ ...FREE_OBJECT }) actor!: Record<string, unknown>;
  @ApiProperty({ type: AuditTargetView }) target!: AuditTargetView;
  @ApiProperty({ type: [AuditChangeView] }) changes!: AuditChangeView[];
  @ApiProperty({ enum: ['success', 'rejected'] }) outcome!: string;
  @ApiPropertyOptional({ description: 'The request id' }) correlationId?: string;
  @ApiPropertyOptional() causationId?: string;
  @ApiPropertyOptional({ ...FREE_OBJECT, description: 'Method, path, status, user agent' }) request?: Record<string, unknown>;
  @ApiProperty({ ...FREE_OBJECT }) data!: Record<string, unknown>;
  @ApiProperty({ description: 'Position in the scope\'s hash chain' }) seq!: number;
  @ApiProperty() prevHash!: string;
  @ApiProperty() hash!: string;
}

export class SignedCheckpointView {
  @ApiProperty() scope!: string;
  @ApiProperty() position!: string;
  @ApiProperty() count!: number;
  @ApiProperty() headHash!: string;
  @ApiProperty({ format: 'date-time' }) time!: string;
  @ApiProperty() keyId!: string;
  @ApiProperty({ description: 'Ed25519 over the canonical JSON of the five fields above, base64' }) signature!: string;
}

export class ChainHeadView {
  @ApiProperty() scope!: string;
  @ApiProperty({ description: "global position of the scope's last record" }) position!: string;
  @ApiProperty({ description: 'records in the scope' }) count!: number;
  @ApiProperty({ description: "hash of the scope's last record" }) hash!: string;
}

export class PublicKeyView {
  @ApiProperty() keyId!: string;
  @ApiProperty({ enum: ['Ed25519'] }) algorithm!: string;
  @ApiProperty({ description: 'SHA-256 of the SubjectPublicKeyInfo (DER), hex: what an auditor pins' }) fingerprint!: string;
  @ApiProperty() publicKeyPem!: string;
}

export class ExportRangeDto {
  @ApiPropertyOptional({ format: 'date-time' }) since?: string;
  @ApiPropertyOptional({ format: 'date-time' }) until?: string;
  @ApiPropertyOptional({ description: 'Exact log positions (from a manifest) instead of times' }) fromPosition?: string;
  @ApiPropertyOptional() toPosition?: string;
}

export class ExportStartView {
  @ApiProperty({ ...FREE_OBJECT, description: 'The signed bundle manifest (format scim-audit-bundle/2): range, scopes, checkpoints, file digests, signature' })
  manifest!: Record<string, unknown>;
  @ApiProperty({ type: [SignedCheckpointView] }) checkpoints!: SignedCheckpointView[];
  @ApiProperty({ type: [PublicKeyView] }) keys!: PublicKeyView[];
}

export class VerificationView {
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional() events?: number;
  @ApiPropertyOptional() scopes?: number;
  @ApiPropertyOptional() checkpoints?: number;
  @ApiPropertyOptional({ description: 'The first problem found (when ok is false)' }) problem?: string;
  @ApiPropertyOptional() record?: string;
  @ApiProperty({ format: 'date-time' }) checkedAt!: string;
}

export class RefusalReasonView {
  @ApiProperty({ example: 'uniqueness' }) reason!: string;
  @ApiProperty({ example: 409 }) status!: number;
  @ApiProperty() count!: number;
}

export class HealthSourceView {
  @ApiProperty({ description: '`application` or `group:<id>`' }) scope!: string;
  @ApiProperty({ example: 'group acme' }) scopeName!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The SCIM token (IdP connection)' }) tokenId!: string | null;
  @ApiProperty({ type: String, nullable: true }) tokenName!: string | null;
  @ApiProperty({ type: [Number], description: 'Requests per bucket (distinct request ids)' }) requests!: number[];
  @ApiProperty({ type: [Number], description: 'Refused requests per bucket' }) refusals!: number[];
  @ApiProperty() totalRequests!: number;
  @ApiProperty() totalRefusals!: number;
  @ApiProperty({ type: [RefusalReasonView], description: 'Top five' }) reasons!: RefusalReasonView[];
}

export class RetryLoopView {
  @ApiProperty() scope!: string;
  @ApiProperty() scopeName!: string;
  @ApiProperty({ type: String, nullable: true }) tokenId!: string | null;
  @ApiProperty({ example: 'PUT' }) method!: string;
  @ApiProperty({ example: 'Users' }) resource!: string;
  @ApiProperty({ description: 'The identity (or request) the refusals concern' }) targetId!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'The account affected, when known' }) accountId!: string | null;
  @ApiProperty() reason!: string;
  @ApiProperty({ type: String, nullable: true }) attribute!: string | null;
  @ApiProperty() count!: number;
  @ApiProperty({ format: 'date-time' }) first!: string;
  @ApiProperty({ format: 'date-time' }) last!: string;
}

export class HealthView {
  @ApiProperty({ format: 'date-time' }) since!: string;
  @ApiProperty({ format: 'date-time' }) until!: string;
  @ApiProperty() bucketSeconds!: number;
  @ApiProperty({ description: 'Refusals of the same request counted as a retry loop from this many' }) loopThreshold!: number;
  @ApiProperty({ type: [HealthSourceView] }) sources!: HealthSourceView[];
  @ApiProperty({ type: [RetryLoopView] }) loops!: RetryLoopView[];
}
