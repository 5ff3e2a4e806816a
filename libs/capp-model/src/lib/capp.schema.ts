import { CAPP_API_VERSION, CAPP_KIND, DEFAULT_SCALE_METRIC, DEFAULT_STATE } from './constants';
import { resourcePolicySchema } from './resource-policy';
import { CrossFieldRule, ErrorRule, isPlainObject, ObjectNode, s, StringNode } from './schema/nodes';

/**
 * The Capp schema: every field of DESIGN §2 and every rule, exactly once.
 * Compatible with container-app-operator v0.3.5: the same field names and types, plus the
 * semantic checks its admission webhook made (hostname, volumes) expressed as schema rules.
 */

const has = (self: Record<string, unknown>, key: string): boolean =>
  self[key] !== undefined && self[key] !== null;

export const DNS_LABEL_PATTERN = {
  regex: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  message:
    'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit',
};

/** Knative Service names are DNS-1035 labels (a revision name is derived from them). */
export const CAPP_NAME_PATTERN = {
  regex: '^[a-z]([-a-z0-9]*[a-z0-9])?$',
  message:
    'must be a DNS-1035 label: lowercase letters, digits and "-", starting with a letter and ending with a letter or digit',
};
export const CAPP_NAME_MAX_LENGTH = 63;

const SECRET_NAME_PATTERN = {
  regex: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  message: 'must be the name of a Secret (a DNS-1123 subdomain)',
};

/** A CappTrait's name: a DNS-1123 subdomain, as any cluster-scoped object's. */
const TRAIT_NAME_PATTERN = {
  regex: SECRET_NAME_PATTERN.regex,
  message: 'must be the name of a CappTrait (a DNS-1123 subdomain)',
};

const HOSTNAME_PATTERN = {
  regex: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.?$',
  message: 'must be a lowercase DNS name such as "app.example.com" (letters, digits, "-" and ".")',
};

const secretName = (description: string): StringNode =>
  s.string({ description, pattern: SECRET_NAME_PATTERN, maxLength: 253 });

/** `type` → the fields that log type needs. */
export const LOG_TYPE_REQUIRED_FIELDS = {
  elastic: ['host', 'index', 'user', 'passwordSecret'],
  splunk: ['host', 'index', 'hecTokenSecret'],
} as const;

const logRules: CrossFieldRule[] = [
  ...Object.entries(LOG_TYPE_REQUIRED_FIELDS).flatMap(([type, fields]) =>
    fields.map((field): CrossFieldRule => ({
      rule: `requiredFor${type[0].toUpperCase()}${type.slice(1)}`,
      field,
      message: `${field} is required when logSpec.type is "${type}"`,
      cel: `!has(self.type) || self.type != '${type}' || (has(self.${field}) && size(self.${field}) > 0)`,
      check: (self) => self['type'] !== type || (typeof self[field] === 'string' && self[field] !== ''),
    })),
  ),
  {
    rule: 'hecTokenSecretOnlyForSplunk',
    field: 'hecTokenSecret',
    message: 'hecTokenSecret is only used when logSpec.type is "splunk"',
    cel: "!has(self.hecTokenSecret) || (has(self.type) && self.type == 'splunk')",
    check: (self) => !has(self, 'hecTokenSecret') || self['type'] === 'splunk',
  },
];

export const cappSpecSchema: ObjectNode = s.object({
  description: 'What the app team wants: the workload and the platform features around it.',
  required: ['configurationSpec'],
  properties: {
    configurationSpec: s.object({
      description: 'The workload, as a Knative ConfigurationSpec (a revision template).',
      required: ['template'],
      properties: {
        template: s.object({
          required: ['spec'],
          properties: {
            metadata: s.opaque({
              description: 'Labels and annotations of every revision (Knative template metadata).',
            }),
            spec: s.object({
              description:
                'A Kubernetes PodSpec plus Knative revision fields; other PodSpec fields are passed through.',
              required: ['containers'],
              preserveUnknownFields: true,
              properties: {
                containers: s.array({
                  minItems: 1,
                  items: s.object({
                    preserveUnknownFields: true,
                    properties: {
                      name: s.string({ description: 'Container name.' }),
                      image: s.string({ description: 'Container image reference.' }),
                    },
                  }),
                }),
                containerConcurrency: s.integer({
                  format: 'int64',
                  minimum: 0,
                  description: 'Hard limit of concurrent requests per replica (0 = unlimited).',
                }),
                timeoutSeconds: s.integer({ format: 'int64', minimum: 0, description: 'Request timeout.' }),
              },
            }),
          },
        }),
      },
    }),
    scaleMetric: s.string({
      description:
        'Metric the autoscaler follows: concurrency and rps use Knative KPA, cpu and memory use HPA.',
      enum: ['concurrency', 'rps', 'cpu', 'memory'],
      default: DEFAULT_SCALE_METRIC,
    }),
    minReplicas: s.integer({
      minimum: 0,
      description: 'Lower bound of replicas (autoscaling.knative.dev/min-scale).',
    }),
    maxReplicas: s.integer({
      minimum: 1,
      description: 'Upper bound of replicas (autoscaling.knative.dev/max-scale).',
    }),
    state: s.string({
      description: 'disabled removes the Knative Service and keeps every other part.',
      enum: ['enabled', 'disabled'],
      default: DEFAULT_STATE,
    }),
    routeSpec: s.object({
      description: 'Custom hostname, TLS, timeouts and traffic.',
      properties: {
        hostname: s.string({
          description: 'Custom domain; the DNS zone from dns-config is appended when missing.',
          pattern: HOSTNAME_PATTERN,
          maxLength: 253,
        }),
        tlsEnabled: s.boolean({
          description: 'Issue a certificate for the hostname and serve it over HTTPS.',
        }),
        routeTimeoutSeconds: s.integer({
          format: 'int64',
          minimum: 0,
          description: 'Maximum time to answer a request (Knative timeoutSeconds).',
        }),
        trafficTarget: s.object({
          description: 'A Knative TrafficTarget for the Service.',
          properties: {
            tag: s.string(),
            revisionName: s.string(),
            configurationName: s.string(),
            latestRevision: s.boolean(),
            percent: s.integer({ format: 'int64', minimum: 0, maximum: 100 }),
            url: s.string(),
          },
        }),
      },
      rules: [
        {
          // A warning, not an error: container-app-operator v0.3.5 accepts it (and makes no Certificate).
          rule: 'tlsWithoutHostname',
          severity: 'warning',
          field: 'tlsEnabled',
          message: 'tlsEnabled has no effect without routeSpec.hostname: no Certificate is issued',
          check: (self) =>
            self['tlsEnabled'] !== true || (typeof self['hostname'] === 'string' && self['hostname'] !== ''),
        },
      ],
    }),
    logSpec: s.object({
      description: 'Log shipping: elastic or splunk; credentials come from Secrets in the same namespace.',
      properties: {
        type: s.string({ enum: ['elastic', 'splunk'] }),
        host: s.string({ description: 'Log server host.' }),
        index: s.string({ description: 'Index to write to.' }),
        user: s.string({ description: 'User name (elastic).' }),
        passwordSecret: secretName(
          'Secret in the Capp namespace whose key "password" holds the password (elastic).',
        ),
        hecTokenSecret: secretName(
          'Secret in the Capp namespace whose key "token" holds the HEC token (splunk).',
        ),
      },
      rules: logRules,
    }),
    site: s.string({ description: 'Placement hint kept for v0.3 compatibility.' }),
    resourcePolicy: resourcePolicySchema,
    volumesSpec: s.object({
      properties: {
        nfsVolumes: s.array({
          description: 'Each becomes an NfsPvc and a PVC volume of the pod.',
          mapKeys: ['name'],
          maxItems: 64,
          items: s.object({
            required: ['name', 'server', 'path', 'capacity'],
            properties: {
              name: s.string({ pattern: DNS_LABEL_PATTERN, minLength: 1, maxLength: 63 }),
              server: s.string({ minLength: 1, description: 'NFS server host or address.' }),
              path: s.string({
                minLength: 1,
                pattern: { regex: '^/', message: 'must be an absolute path (start with "/")' },
                description: 'Exported path on the server.',
              }),
              capacity: s.object({
                required: ['storage'],
                properties: { storage: s.quantity({ description: 'Size, e.g. 200Gi.' }) },
              }),
            },
          }),
        }),
      },
    }),
    traits: s.array({
      description:
        'Patch traits (CappTraits by name) applied in list order to what the Capp becomes, after the platform renders it.',
      maxItems: 32,
      items: s.object({
        required: ['type'],
        properties: {
          type: s.string({
            description: 'The name of a CappTrait.',
            pattern: TRAIT_NAME_PATTERN,
            minLength: 1,
            maxLength: 253,
          }),
          properties: s.opaque({ description: "The trait's parameters, checked against its JSON Schema." }),
        },
      }),
    }),
  },
  rules: [
    {
      rule: 'maxReplicasAtLeastMinReplicas',
      field: 'maxReplicas',
      message: 'maxReplicas must be greater than or equal to minReplicas',
      cel: '!has(self.minReplicas) || !has(self.maxReplicas) || self.maxReplicas >= self.minReplicas',
      check: (self) =>
        !has(self, 'minReplicas') ||
        !has(self, 'maxReplicas') ||
        Number(self['maxReplicas']) >= Number(self['minReplicas']),
    },
  ],
});

/** A Kubernetes condition (metav1.Condition), as every status of this group carries them. */
export const conditionSchema = s.object({
  required: ['type', 'status'],
  properties: {
    type: s.string(),
    status: s.string({ enum: ['True', 'False', 'Unknown'] }),
    reason: s.string(),
    message: s.string(),
    lastTransitionTime: s.string({ format: 'date-time' }),
    observedGeneration: s.integer({ format: 'int64' }),
  },
});

export const cappStatusSchema: ObjectNode = s.object({
  properties: {
    observedGeneration: s.integer({ format: 'int64' }),
    conditions: s.array({ items: conditionSchema, mapKeys: ['type'] }),
    url: s.string(),
    knativeObjectStatus: s.opaque({ description: "The Knative Service's status, whole (as v0.3.5)." }),
    routeStatus: s.opaque({
      description:
        'The route: hostname, resources; and, as v0.3.5, domainMappingObjectStatus, dnsRecordObjectStatus.cnameRecordObjectStatus, certificateObjectStatus.',
    }),
    loggingStatus: s.opaque({
      description:
        "Log shipping: type, resources; and, as v0.3.5, each logging child's status under its kind in lower case, and conditions.",
    }),
    volumesStatus: s.opaque({
      description: "NFS volumes: resources; and, as v0.3.5, nfsVolumesStatus[] with each NfsPvc's status.",
    }),
    stateStatus: s.object({
      properties: { state: s.string(), lastChange: s.string({ format: 'date-time' }) },
    }),
    managedResources: s.array({
      items: s.object({
        required: ['apiVersion', 'kind', 'name'],
        properties: {
          apiVersion: s.string(),
          kind: s.string(),
          namespace: s.string(),
          name: s.string(),
          hash: s.string({ description: 'Hash of the render last applied.' }),
          generation: s.integer({ format: 'int64', description: 'Capp generation it was last applied at.' }),
          strategy: s.string({ description: 'Garbage-collection strategy (when not onUpdate).' }),
        },
      }),
    }),
    scopes: s.array({
      description:
        'The HealthScopes this Capp is a member of (written by the HealthScope controller under its own field manager).',
      mapKeys: ['name'],
      items: s.object({ required: ['name'], properties: { name: s.string() } }),
    }),
    traits: s.array({
      description: "The traits in effect: the Capp's own, then those auto-applied to its namespace.",
      items: s.object({
        required: ['type'],
        properties: {
          type: s.string(),
          generation: s.integer({ format: 'int64' }),
          podDisruptive: s.boolean(),
          autoApplied: s.boolean(),
        },
      }),
    }),
    // Written by container-app-operator v0.3; kept so a migrated Capp's status survives.
    applicationLinks: s.opaque(),
    revisions: s.array({ items: s.opaque() }),
  },
});

/** Rule on the whole object: the Capp's name becomes the Knative Service's name. */
export const cappNameRule: ErrorRule = {
  rule: 'name',
  field: 'metadata.name',
  message: `metadata.name ${CAPP_NAME_PATTERN.message}, at most ${CAPP_NAME_MAX_LENGTH} characters`,
  cel: `!has(self.metadata.name) || (size(self.metadata.name) <= ${CAPP_NAME_MAX_LENGTH} && self.metadata.name.matches('${CAPP_NAME_PATTERN.regex}'))`,
  check: (self) => {
    const meta = self['metadata'];
    const name = isPlainObject(meta) ? meta['name'] : undefined;
    return (
      name === undefined ||
      (typeof name === 'string' &&
        name.length <= CAPP_NAME_MAX_LENGTH &&
        new RegExp(CAPP_NAME_PATTERN.regex).test(name))
    );
  },
};

/** Kubernetes' qualified name: `[prefix/]name`, prefix a DNS-1123 subdomain, name ≤ 63 characters. */
const QUALIFIED_NAME = {
  regex:
    '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$',
  message:
    'must be a qualified name: an optional DNS subdomain prefix and "/", then a name of at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit (as Kubernetes requires of label and annotation keys)',
};
const LABEL_VALUE = {
  regex: '^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$',
  message:
    'must be empty or letters, digits, "-", "_" and ".", starting and ending with a letter or digit (a Kubernetes label value)',
};
/** The prefix may be 253 characters and the name 63: 317 with the slash. */
const qualifiedKey = s.string({ pattern: QUALIFIED_NAME, minLength: 1, maxLength: 317 });

/** Labels as Kubernetes validates them: qualified-name keys, values of at most 63 characters. */
export const labelMap = s.map({
  keys: qualifiedKey,
  values: s.string({ pattern: LABEL_VALUE, maxLength: 63 }),
});
/** Annotations as Kubernetes validates them: qualified-name keys, 256 KiB in all. */
export const annotationMap = s.map({ keys: qualifiedKey, values: s.string(), maxTotalBytes: 256 * 1024 });

/** The whole object as a client sends it (kubectl or the REST API). */
export const cappSchema: ObjectNode = s.object({
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: s.string({ enum: [CAPP_API_VERSION] }),
    kind: s.string({ enum: [CAPP_KIND] }),
    metadata: s.object({
      preserveUnknownFields: true,
      properties: {
        name: s.string({ minLength: 1 }),
        namespace: s.string({ pattern: DNS_LABEL_PATTERN, maxLength: 63 }),
        labels: labelMap,
        annotations: annotationMap,
      },
    }),
    spec: cappSpecSchema,
    status: s.opaque(),
  },
  rules: [cappNameRule],
});

/**
 * The body of a write through the REST API: the CR's own shape (so a manifest written for
 * `kubectl apply` works), without the fields the server owns (`status`, `uid`, `resourceVersion`…).
 * `apiVersion` and `kind` may be left out; `metadata.name` and `namespace` may be left out where the
 * URL names them.
 */
export const cappWriteSchema: ObjectNode = s.object({
  required: ['metadata', 'spec'],
  properties: {
    apiVersion: s.string({ enum: [CAPP_API_VERSION] }),
    kind: s.string({ enum: [CAPP_KIND] }),
    metadata: s.object({
      properties: {
        name: s.string({ minLength: 1 }),
        namespace: s.string({ pattern: DNS_LABEL_PATTERN, maxLength: 63 }),
        labels: labelMap,
        annotations: annotationMap,
      },
    }),
    spec: cappSpecSchema,
  },
  rules: [cappNameRule],
});
