// The CRD types of SPEC §1 and the names this operator writes (labels, annotations, Secret keys,
// condition types and reasons). Types and constants only — no logic.
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition; the helpers that set and read conditions are in `rules/conditions.ts`. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export const GROUP = 'scim.tokens.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const DOMAIN_KIND = 'ScimDomain';
export const DOMAIN_PLURAL = 'scimdomains';
export const ROTATION_KIND = 'ScimTokenRotation';
export const ROTATION_PLURAL = 'scimtokenrotations';

export const SECRET_TYPE = 'scim.tokens.dev/token';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'scim-token-operator';
export const FIELD_MANAGER = 'scim-token-operator';
/** Set by `kubectl scim token` after printing a reveal-once token (SPEC §2.4). */
export const REVEALED_ANNOTATION = 'scim.tokens.dev/revealed';
/** The token generation the Secret holds; a Secret one ahead of status is a write not yet recorded. */
export const GENERATION_ANNOTATION = 'scim.tokens.dev/token-generation';
/** The rotation whose token the Secret holds, while that rotation is being applied. */
export const ROTATION_ANNOTATION = 'scim.tokens.dev/rotation-uid';
export const ROTATION_NAME_ANNOTATION = 'scim.tokens.dev/rotation-name';
/**
 * Who created a ScimTokenRotation: stamped by admission (a MutatingAdmissionPolicy) from the
 * request's user, never taken from the user (SPEC §1.2, §3).
 */
export const REQUESTED_BY_ANNOTATION = 'scim.tokens.dev/requested-by';

export const SecretKeys = {
  token: 'token',
  sha256: 'token-sha256',
  id: 'token-id',
  domain: 'domain',
  scimBaseUrl: 'scimBaseUrl',
} as const;

export type IdentityProvider = 'EntraID' | 'Okta' | 'GoogleWorkspace' | 'Other';

export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  /** Set only on domains with spec.maxTokenAge: True once the token is older than that. */
  TokenOverdue: 'TokenOverdue',
  /** Present only with spec.delivery: whether the current token reached the identity provider (SPEC §2.7). */
  Delivered: 'Delivered',
} as const;

export const DomainReason = {
  TokenIssued: 'TokenIssued',
  Suspended: 'Suspended',
  DomainConflict: 'DomainConflict',
  SecretConflict: 'SecretConflict',
  InvalidSpec: 'InvalidSpec',
  ApiError: 'ApiError',
  Issuing: 'Issuing',
} as const;
export type DomainReason = (typeof DomainReason)[keyof typeof DomainReason];

export const RotationReason = {
  Rotated: 'Rotated',
  Scheduled: 'Scheduled',
  DomainNotFound: 'DomainNotFound',
  ProvisioningNotEnabled: 'ProvisioningNotEnabled',
  InvalidSpec: 'InvalidSpec',
  Failed: 'Failed',
} as const;
export type RotationReason = (typeof RotationReason)[keyof typeof RotationReason];

/** Reasons of the Delivered condition (SPEC §2.7). */
export const DeliveryReason = {
  TokenDelivered: 'TokenDelivered',
  DeliveryFailed: 'DeliveryFailed',
} as const;

export type RevocationReason =
  'Rotated' | 'Suspended' | 'SecretTampered' | 'SecretLost' | 'Deleted' | 'DomainConflict';

export const EventReason = {
  TokenIssued: 'TokenIssued',
  TokenRevoked: 'TokenRevoked',
  TokenRotated: 'TokenRotated',
  TokenRevealed: 'TokenRevealed',
  TokenMoved: 'TokenMoved',
  DomainConflict: 'DomainConflict',
  SecretConflict: 'SecretConflict',
  SecretTampered: 'SecretTampered',
  SecretLost: 'SecretLost',
  RotationSkipped: 'RotationSkipped',
  RotationFailed: 'RotationFailed',
  TokenOverdue: 'TokenOverdue',
  TokenDelivered: 'TokenDelivered',
  DeliveryFailed: 'DeliveryFailed',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export interface TokenStatus {
  id: string;
  fingerprint: string;
  sha256: string;
  issuedAt: string;
  generation: number;
}

export interface RevokedToken {
  id: string;
  fingerprint: string;
  revokedAt: string;
  reason: RevocationReason;
}

export type EntraCloud = 'Global' | 'USGovernment' | 'China';

/** Where the operator writes each new token in Microsoft Entra ID (SPEC §1.1 delivery.entraID). */
export interface EntraDeliverySpec {
  tenantId: string;
  /** The enterprise application's service principal object ID. */
  servicePrincipalId: string;
  /** A Secret in the domain's namespace with an app registration's client credentials. */
  credentialsSecretRef: { name: string; clientIdKey?: string; clientSecretKey?: string };
  cloud?: EntraCloud;
}

export interface DeliverySpec {
  entraID?: EntraDeliverySpec;
}

/** Where a token was delivered: a change of any of these delivers the current token again. */
export interface DeliveryTarget {
  cloud: EntraCloud;
  tenantId: string;
  servicePrincipalId: string;
  baseAddress: string;
}

/** The last attempt to deliver a token; `fingerprint` is the token's, never the token. */
export interface LastDelivery {
  time: string;
  fingerprint: string;
  target?: DeliveryTarget;
  result: 'Success' | 'Failure';
  message: string;
  /** Failed attempts in a row for this fingerprint: the backoff before the next one. */
  failures?: number;
}

export interface ScimDomainSpec {
  domain: string;
  identityProvider?: IdentityProvider;
  sendEmailInvitations?: boolean;
  secretName?: string;
  scimBaseUrl?: string;
  suspend?: boolean;
  revealOnce?: boolean;
  delivery?: DeliverySpec;
  /** A duration such as `720h`: past it the domain reports TokenOverdue (src/rules/token-age.ts). */
  maxTokenAge?: string;
}

/** A token rotated out with an overlap: it still verifies until expiresAt (SPEC §2.2). */
export interface PreviousToken {
  id: string;
  fingerprint: string;
  sha256: string;
  expiresAt: string;
}

export interface LastRotation {
  name: string;
  uid: string;
  time: string;
  /** The user who created the rotation (for a schedule: who created the schedule). */
  requestedBy?: string;
}

export interface ScimDomainStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  secretName?: string;
  token?: TokenStatus;
  /** With an overlap in progress: the token the last rotation replaced, valid until expiresAt. */
  previousToken?: PreviousToken;
  lastRotation?: LastRotation;
  appliedRotations?: string[];
  revokedTokens?: RevokedToken[];
  lastDelivery?: LastDelivery;
}

export interface ScimDomain extends KubernetesObject {
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec: ScimDomainSpec;
  status?: ScimDomainStatus;
}

export interface TokenRef {
  id: string;
  fingerprint: string;
}

export interface RotationHistoryEntry {
  scheduledTime?: string;
  time: string;
  result: 'Rotated' | 'Skipped' | 'Failed';
  reason?: string;
  message?: string;
  newToken?: TokenRef;
}

export interface ScimTokenRotationSpec {
  domainRef: { name: string };
  reason?: string;
  schedule?: string;
  timeZone?: string;
  suspend?: boolean;
  historyLimit?: number;
  /** A duration (≤ 24h): how long the previous token keeps verifying after the rotation. */
  overlap?: string;
  /** One-shot only: delete the rotation this many seconds after it completed (like a Job's). */
  ttlSecondsAfterFinished?: number;
}

export interface ScimTokenRotationStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** Who created this rotation (from REQUESTED_BY_ANNOTATION). */
  requestedBy?: string;
  rotatedAt?: string;
  previousToken?: TokenRef;
  newToken?: TokenRef;
  lastScheduleTime?: string;
  nextScheduleTime?: string;
  lastSuccessfulTime?: string;
  history?: RotationHistoryEntry[];
}

export interface ScimTokenRotation extends KubernetesObject {
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec: ScimTokenRotationSpec;
  status?: ScimTokenRotationStatus;
}

/** Limits of SPEC §1.1. */
export const APPLIED_ROTATIONS_LIMIT = 50;
/** The CRD's bound on appliedRotations: keys of one-shots not yet recorded are kept past the limit. */
export const APPLIED_ROTATIONS_MAX = 100;
export const REVOKED_TOKENS_LIMIT = 10;

export function defaultSecretName(domainName: string): string {
  return `${domainName}-scim-token`;
}
