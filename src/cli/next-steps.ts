// What to do with a token in the identity provider's admin console, per IdP (SPEC §1.1
// `identityProvider`): where the SCIM base URL and the token go, and how to test the connection.
// Printed by `kubectl scim add` and `kubectl scim rotate` after the token.
//
// Pure, and deliberately token-free: the steps refer to "the token printed above" so that they can
// go to stderr (and into logs and screenshots) without carrying the secret.

import type { IdentityProvider } from '../api/types.js';

export interface NextStepsInput {
  identityProvider: IdentityProvider;
  /** The email domain, for the heading. */
  domain: string;
  /** spec.scimBaseUrl; without it a placeholder is shown and the user is told how to record it. */
  scimBaseUrl?: string;
  /** After a rotation: the token has to be replaced, and provisioning fails until it is. */
  rotated: boolean;
  /** `namespace/name` of the ScimDomain, for the hint about recording the base URL. */
  ref: string;
  /** spec.delivery.entraID's service principal: the operator writes the token there itself. */
  deliveredTo?: string;
}

const PLACEHOLDER_URL = "<your application's SCIM base URL, e.g. https://app.example.com/scim/v2>";

export const IDP_DISPLAY_NAMES: Readonly<Record<IdentityProvider, string>> = {
  EntraID: 'Microsoft Entra ID',
  Okta: 'Okta',
  GoogleWorkspace: 'Google Workspace',
  Other: 'your identity provider',
};

/** The lines to print (no trailing newline on any). */
export function nextSteps(input: NextStepsInput): string[] {
  if (input.deliveredTo !== undefined) {
    const [ns, name] = input.ref.split('/');
    return [
      `Next steps: none by hand — the operator writes the token to the Microsoft Entra ID application ` +
        `(service principal ${input.deliveredTo}) itself (spec.delivery.entraID).`,
      `  Check it: kubectl scim status ${name ?? ''} -n ${ns ?? ''}   (Delivered=True, lastDelivery)`,
    ];
  }
  const url = input.scimBaseUrl ?? PLACEHOLDER_URL;
  const token = input.rotated ? 'the new token printed above' : 'the token printed above';
  const heading = input.rotated
    ? `Next steps: replace the token in ${IDP_DISPLAY_NAMES[input.identityProvider]} for ${input.domain}. ` +
      'Provisioning fails until you do — the old token no longer works.'
    : `Next steps: set up SCIM provisioning for ${input.domain} in ${IDP_DISPLAY_NAMES[input.identityProvider]}.`;
  const steps = stepsFor(input.identityProvider, url, token, input.rotated);
  const lines = [heading, ...steps.map((s, i) => `  ${i + 1}. ${s}`)];
  if (input.scimBaseUrl === undefined && !input.rotated) {
    const [ns, name] = input.ref.split('/');
    lines.push(
      `  Tip: record the SCIM base URL on the domain so it is kept next to the token (Secret key scimBaseUrl):`,
      `       kubectl patch scimdomain ${name ?? ''} -n ${ns ?? ''} --type merge -p '{"spec":{"scimBaseUrl":"https://…"}}'`,
    );
  }
  return lines;
}

function stepsFor(idp: IdentityProvider, url: string, token: string, rotated: boolean): string[] {
  switch (idp) {
    case 'EntraID':
      return [
        'In the Microsoft Entra admin center open Enterprise applications → your application → Provisioning' +
          (rotated ? '.' : ' (Provisioning Mode: Automatic).'),
        rotated
          ? `Under Admin Credentials paste ${token} into Secret Token (Tenant URL stays ${url}).`
          : `Under Admin Credentials set Tenant URL to ${url} and paste ${token} into Secret Token.`,
        rotated
          ? 'Click Test Connection, then Save.'
          : 'Click Test Connection, then Save, map attributes and set Provisioning Status to On.',
      ];
    case 'Okta':
      return [
        'In the Okta Admin Console open Applications → Applications → your application → Provisioning → Integration, and click Edit.',
        rotated
          ? `Keep Authentication Mode "HTTP Header" and paste ${token} as the Bearer token (SCIM connector base URL stays ${url}).`
          : `Set SCIM connector base URL to ${url}, Unique identifier field for users to userName, Authentication Mode to "HTTP Header", and paste ${token} as the Bearer token.`,
        rotated
          ? 'Click Test Connector Configuration, then Save.'
          : 'Click Test Connector Configuration, then Save; under Provisioning → To App enable Create, Update and Deactivate Users.',
      ];
    case 'GoogleWorkspace':
      return [
        'In the Google Admin console (admin.google.com) open Apps → Web and mobile apps → your application → Auto-provisioning.',
        rotated
          ? `Edit the provisioning settings and paste ${token} as the access token (endpoint URL stays ${url}).`
          : `Set up auto-provisioning: paste ${token} as the access token and enter ${url} as the endpoint URL.`,
        rotated
          ? 'Save; check that Auto-provisioning is still ON.'
          : 'Finish the attribute mapping and provisioning scope, then turn Auto-provisioning ON.',
      ];
    case 'Other':
      return [
        rotated
          ? "In your identity provider's SCIM provisioning settings, replace the bearer token."
          : "In your identity provider's admin console, configure SCIM 2.0 provisioning for your application.",
        `SCIM base URL (tenant URL / endpoint): ${url}`,
        `Authentication: HTTP header "Authorization: Bearer <token>" with ${token} (often called secret token, API token or access token).`,
        "Run the IdP's connection test before saving.",
      ];
  }
}
