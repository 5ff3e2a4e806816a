import {
  AUTOSCALE_DEFAULTS_CONFIGMAP,
  AUTOSCALE_FALLBACKS,
  DNS_CONFIGMAP,
  parseAutoscaleDefaults,
  parseDnsConfig,
} from './config';
import { ConfigError } from './errors';

describe('parseAutoscaleDefaults', () => {
  it('falls back to rps 200, cpu 80, memory 70, concurrency 10, activationScale 3 without the ConfigMap', () => {
    expect(parseAutoscaleDefaults(undefined)).toEqual({
      rps: 200,
      cpu: 80,
      memory: 70,
      concurrency: 10,
      activationScale: 3,
    });
  });

  it('falls back key by key when the ConfigMap has no data or misses keys', () => {
    expect(parseAutoscaleDefaults({})).toEqual(AUTOSCALE_FALLBACKS);
    expect(parseAutoscaleDefaults({ data: { cpu: '50' } })).toEqual({ ...AUTOSCALE_FALLBACKS, cpu: 50 });
  });

  it('reads every key from the ConfigMap', () => {
    const data = { rps: '300', cpu: '60', memory: '90', concurrency: '25', activationScale: '2' };
    expect(parseAutoscaleDefaults({ data })).toEqual({
      rps: 300,
      cpu: 60,
      memory: 90,
      concurrency: 25,
      activationScale: 2,
    });
  });

  it('trims values and treats an empty value as missing', () => {
    expect(parseAutoscaleDefaults({ data: { rps: ' 150 ', cpu: '' } })).toEqual({
      ...AUTOSCALE_FALLBACKS,
      rps: 150,
    });
  });

  it.each([
    ['cpu', 'abc', 'must be an integer between 1 and 100, got "abc"'],
    ['cpu', '0', 'must be an integer between 1 and 100, got "0"'],
    ['memory', '101', 'must be an integer between 1 and 100, got "101"'],
    ['memory', '50.5', 'must be an integer between 1 and 100, got "50.5"'],
    ['rps', '-1', 'must be a positive integer, got "-1"'],
    ['rps', '0', 'must be a positive integer, got "0"'],
    ['concurrency', '1e3', 'must be a positive integer, got "1e3"'],
    ['activationScale', '0', 'must be an integer of at least 1, got "0"'],
  ])('refuses %s=%j with a ConfigError naming the ConfigMap, the key and the rule', (key, value, rule) => {
    const parse = (): unknown => parseAutoscaleDefaults({ data: { [key]: value } });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(`ConfigMap autoscale-defaults: key "${key}" ${rule}`);
  });

  it('gives the ConfigMap and the key on the error', () => {
    try {
      parseAutoscaleDefaults({ data: { cpu: 'abc' } });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toMatchObject({ name: 'ConfigError', configMap: AUTOSCALE_DEFAULTS_CONFIGMAP, key: 'cpu' });
    }
  });
});

describe('parseDnsConfig', () => {
  const data = { zone: 'apps.example.com.', cname: 'ingress.example.com.' };

  it('is undefined without the ConfigMap', () => {
    expect(parseDnsConfig(undefined)).toBeUndefined();
  });

  it('defaults the provider config and cert-external-issuer ClusterIssuer', () => {
    expect(parseDnsConfig({ data })).toEqual({
      zone: 'apps.example.com.',
      cname: 'ingress.example.com.',
      providerConfigName: 'dns-default',
      issuerName: 'cert-external-issuer',
      issuerKind: 'ClusterIssuer',
      issuerGroup: 'cert.dana.io',
    });
  });

  it('reads the optional keys when set', () => {
    const full = {
      ...data,
      providerConfigName: 'pc',
      issuerName: 'le',
      issuerKind: 'Issuer',
      issuerGroup: 'cert-manager.io',
    };
    expect(parseDnsConfig({ data: full })).toMatchObject({
      providerConfigName: 'pc',
      issuerName: 'le',
      issuerKind: 'Issuer',
      issuerGroup: 'cert-manager.io',
    });
  });

  it("reads a dns-config written for container-app-operator v0.3.5: its keys 'provider' and 'issuer'", () => {
    const v03 = { zone: 'zone.com.', cname: 'cname.com', provider: 'dns-provider', issuer: 'cert-issuer' };
    expect(parseDnsConfig({ data: v03 })).toEqual({
      zone: 'zone.com.',
      cname: 'cname.com',
      providerConfigName: 'dns-provider',
      issuerName: 'cert-issuer',
      issuerKind: 'ClusterIssuer',
      issuerGroup: 'cert.dana.io',
    });
  });

  it.each<[Record<string, string>, { providerConfigName: string; issuerName: string }]>([
    [
      { provider: 'go-pc', providerConfigName: 'pc', issuer: 'go-issuer', issuerName: 'le' },
      { providerConfigName: 'pc', issuerName: 'le' },
    ],
    [
      { provider: 'go-pc', providerConfigName: '', issuer: 'go-issuer', issuerName: ' ' },
      { providerConfigName: 'go-pc', issuerName: 'go-issuer' },
    ],
  ])('prefers our key over the v0.3.5 one when both are set (%j)', (keys, expected) => {
    expect(parseDnsConfig({ data: { ...data, ...keys } })).toMatchObject(expected);
  });

  it.each([
    [{ cname: data.cname }, 'ConfigMap dns-config: key "zone" is required'],
    [{ zone: data.zone }, 'ConfigMap dns-config: key "cname" is required'],
    [
      { ...data, zone: 'apps.example.com' },
      'ConfigMap dns-config: key "zone" must be a DNS name ending with "."',
    ],
    [{ ...data, zone: '.' }, 'key "zone" must be a DNS name ending with "."'],
    [{ ...data, cname: 'not a host' }, 'ConfigMap dns-config: key "cname" must be a DNS name'],
  ])('refuses %j with a ConfigError: %s', (bad, message) => {
    const parse = (): unknown => parseDnsConfig({ data: bad as Record<string, string> });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(message);
  });

  it('names the dns-config ConfigMap on its errors', () => {
    expect(() => parseDnsConfig({})).toThrow(
      expect.objectContaining({ configMap: DNS_CONFIGMAP, key: 'zone' }),
    );
  });
});
