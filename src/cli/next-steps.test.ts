import { describe, expect, it } from 'vitest';
import type { IdentityProvider } from '../api/types.js';
import { nextSteps } from './next-steps.js';

const URL = 'https://app.example.com/scim/v2';
const base = { domain: 'contoso.example', ref: 'team-a/contoso-example', scimBaseUrl: URL };

describe('nextSteps', () => {
  it.each<[IdentityProvider, RegExp[]]>([
    [
      'EntraID',
      [
        /Microsoft Entra/,
        /Enterprise applications → your application → Provisioning/,
        /Tenant URL to https:\/\/app\.example\.com\/scim\/v2/,
        /Secret Token/,
        /Test Connection/,
      ],
    ],
    [
      'Okta',
      [
        /Okta Admin Console/,
        /Provisioning → Integration/,
        /SCIM connector base URL to https:\/\/app/,
        /HTTP Header/,
        /Bearer token/,
      ],
    ],
    [
      'GoogleWorkspace',
      [
        /admin\.google\.com/,
        /Apps → Web and mobile apps → your application → Auto-provisioning/,
        /access token/,
        /endpoint URL/,
      ],
    ],
    ['Other', [/SCIM base URL .*: https:\/\/app/, /Authorization: Bearer <token>/, /connection test/]],
  ])('tells where the base URL and the token go in %s', (idp, patterns) => {
    const text = nextSteps({ ...base, identityProvider: idp, rotated: false }).join('\n');
    for (const p of patterns) expect(text).toMatch(p);
  });

  it.each<IdentityProvider>(['EntraID', 'Okta', 'GoogleWorkspace', 'Other'])(
    'after a rotation in %s, says to replace the token and that provisioning fails until then',
    (idp) => {
      const text = nextSteps({ ...base, identityProvider: idp, rotated: true }).join('\n');
      expect(text).toContain('the new token printed above');
      expect(text).toContain('Provisioning fails until you do');
    },
  );

  it('shows a placeholder and how to record the base URL when the domain has none', () => {
    const text = nextSteps({
      domain: 'contoso.example',
      ref: 'team-a/contoso-example',
      identityProvider: 'Okta',
      rotated: false,
    }).join('\n');
    expect(text).toContain("<your application's SCIM base URL");
    expect(text).toContain('kubectl patch scimdomain contoso-example -n team-a');
  });

  it('never contains anything shaped like a token', () => {
    for (const idp of ['EntraID', 'Okta', 'GoogleWorkspace', 'Other'] as const) {
      for (const rotated of [false, true]) {
        expect(nextSteps({ ...base, identityProvider: idp, rotated }).join('\n')).not.toMatch(/sct_/);
      }
    }
  });

  it('says nothing is to be pasted when the operator delivers the token to Entra ID itself', () => {
    const lines = nextSteps({
      identityProvider: 'EntraID',
      domain: 'contoso.example',
      rotated: true,
      ref: 'tenants/contoso',
      deliveredTo: '00000000-0000-0000-0000-000000000001',
    });
    expect(lines[0]).toContain('none by hand');
    expect(lines.join('\n')).toContain('00000000-0000-0000-0000-000000000001');
    expect(lines.join('\n')).toContain('kubectl scim status contoso -n tenants');
    expect(lines.join('\n')).not.toContain('Provisioning fails');
  });
});
