import { RenderError } from './errors';
import { customDomain, dnsRecordName, domainOfTlsSecret, outputName, tlsSecretName } from './names';

describe('customDomain', () => {
  it.each([
    ['appends the zone to a short hostname', 'shop', 'shop.apps.example.com'],
    ['appends the zone to a hostname outside the zone', 'capp.dev', 'capp.dev.apps.example.com'],
    ['keeps a hostname already in the zone', 'shop.apps.example.com', 'shop.apps.example.com'],
    ['strips a trailing dot from a hostname in the zone', 'shop.apps.example.com.', 'shop.apps.example.com'],
    ['strips a trailing dot before appending the zone', 'shop.', 'shop.apps.example.com'],
    ['lowercases the hostname', 'Shop.Apps.Example.com', 'shop.apps.example.com'],
    [
      'only matches the zone on a label boundary',
      'myapps.example.com',
      'myapps.example.com.apps.example.com',
    ],
  ])('%s', (_title, hostname, fqdn) => {
    expect(customDomain(hostname, 'apps.example.com.')).toBe(fqdn);
  });
});

describe('dnsRecordName', () => {
  it.each([
    ['is the part before the zone', 'shop.apps.example.com', 'shop'],
    ['keeps several labels before the zone', 'a.b.apps.example.com', 'a.b'],
  ])('%s', (_title, fqdn, name) => {
    expect(dnsRecordName(fqdn, 'apps.example.com.')).toBe(name);
  });

  it('refuses the zone apex, where no CNAME can live', () => {
    expect(() => dnsRecordName('apps.example.com', 'apps.example.com.')).toThrow(RenderError);
    expect(() => dnsRecordName('apps.example.com', 'apps.example.com.')).toThrow(/zone apex/);
  });
});

describe('child names', () => {
  it('names the TLS Secret <fqdn>-tls and the Output <capp>-<type>', () => {
    expect(tlsSecretName('shop.apps.example.com')).toBe('shop.apps.example.com-tls');
    expect(outputName('web', 'splunk')).toBe('web-splunk');
  });
});

describe('domainOfTlsSecret', () => {
  it.each([
    ['shop.apps.example.com-tls', 'shop.apps.example.com'],
    ['es-pass', undefined],
    ['-tls', undefined],
  ])('finds the custom domain of the TLS Secret %s: %s', (secret, domain) => {
    expect(domainOfTlsSecret(secret)).toBe(domain);
  });
});
