import {
  cappSpecSchema,
  cappStatusSchema,
  cappTraitSpecSchema,
  cappWriteSchema,
  healthScopeSpecSchema,
  healthScopeStatusSchema,
  healthScopeWriteSchema,
  toOpenApi,
} from '@capp/capp-model';
import type { INestApplication } from '@nestjs/common';
import { ApiResponse, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';

/**
 * The OpenAPI document. Capp bodies are described by the same schema that validates them and
 * generates the CRD (`@capp/capp-model`), injected as components; the rest comes from decorators.
 */

type Schema = Record<string, unknown>;

export function schemaRef(name: string): { $ref: string } {
  return { $ref: `#/components/schemas/${name}` };
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: `details` names each bad field and the rule it breaks.',
  401: 'Missing or invalid bearer token.',
  403: 'Cluster RBAC does not allow this verb on capps.rcs.dana.io (healthscopes.rcs.dana.io for HealthScopes) in the namespace.',
  404: 'No such Capp (revision, or HealthScope).',
  409: 'A Capp (or HealthScope) of that name exists, or it was changed concurrently.',
  412: 'If-Match is stale: read the Capp again.',
  413: 'Request body too large.',
  422: 'The cluster refuses the Capp at the dry run (admission, policy, or a namespace that does not exist); nothing was stored.',
  429: 'Rate limit exceeded; retry after the Retry-After seconds.',
  503: 'PostgreSQL (or, for auth, the Kubernetes API server) is unavailable; nothing was changed.',
};

export function errorResponses(...codes: number[]): MethodDecorator[] {
  return codes.map((status) =>
    ApiResponse({ status, description: ERROR_DESCRIPTIONS[status], schema: schemaRef('Error') }),
  );
}

const EXAMPLE_CAPP = {
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: { name: 'hello', labels: { app: 'hello' } },
  spec: {
    scaleMetric: 'concurrency',
    configurationSpec: {
      template: {
        spec: {
          containers: [
            {
              name: 'hello',
              image: 'ghcr.io/dana-team/capp-gin-app:v0.2.0',
              ports: [{ containerPort: 8080 }],
            },
          ],
        },
      },
    },
  },
};

export const API_EXAMPLES = {
  create: {
    minimal: { summary: 'A web app with concurrency autoscaling', value: EXAMPLE_CAPP },
    hostname: {
      summary: 'With a custom hostname and TLS',
      value: {
        ...EXAMPLE_CAPP,
        metadata: { name: 'shop' },
        spec: { ...EXAMPLE_CAPP.spec, routeSpec: { hostname: 'shop.apps.example.com', tlsEnabled: true } },
      },
    },
  },
  replace: {
    rps: {
      summary: 'Scale on requests per second',
      value: { ...EXAMPLE_CAPP, spec: { ...EXAMPLE_CAPP.spec, scaleMetric: 'rps' } },
    },
  },
  state: {
    disable: { summary: 'Remove the Knative Service, keep the rest', value: { state: 'disabled' } },
    enable: { summary: 'Bring it back', value: { state: 'enabled' } },
  },
  rollback: { first: { summary: 'Back to revision 1 (as a new revision)', value: { revision: 1 } } },
  healthScope: {
    shop: {
      summary: 'The shop: three Capps, probed every 10 s',
      value: {
        apiVersion: 'rcs.dana.io/v1alpha1',
        kind: 'HealthScope',
        metadata: { name: 'shop' },
        spec: {
          cappRefs: ['frontend', 'api'],
          selector: { matchLabels: { app: 'shop' } },
          probe: { path: '/healthz', periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
          unknownIs: 'unhealthy',
        },
      },
    },
  },
  patch: {
    metric: { summary: 'Change the scale metric', value: { spec: { scaleMetric: 'cpu' } } },
    label: {
      summary: 'Add a label, remove another',
      value: { metadata: { labels: { tier: 'front', legacy: null } } },
    },
  },
};

function componentSchemas(): Record<string, Schema> {
  const meta = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      namespace: { type: 'string' },
      uid: { type: 'string', format: 'uuid' },
      resourceVersion: { type: 'string', description: 'The version; the ETag is this value quoted.' },
      creationTimestamp: { type: 'string', format: 'date-time' },
      deletionTimestamp: { type: 'string', format: 'date-time' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      annotations: { type: 'object', additionalProperties: { type: 'string' } },
    },
  };
  const labelsAndAnnotations = {
    type: 'object',
    properties: {
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      annotations: { type: 'object', additionalProperties: { type: 'string' } },
    },
  };
  const scopeStatus = toOpenApi(healthScopeStatusSchema, { cel: false }) as Schema & {
    properties: Record<string, Schema>;
  };
  return {
    CappWrite: { ...toOpenApi(cappWriteSchema, { cel: false }), example: EXAMPLE_CAPP },
    CappSpec: toOpenApi(cappSpecSchema, { cel: false }),
    CappStatus: toOpenApi(cappStatusSchema, { cel: false }),
    Sync: {
      type: 'object',
      required: ['state', 'attempts'],
      properties: {
        state: {
          type: 'string',
          enum: ['Pending', 'Synced', 'Failed'],
          description: 'Whether the cluster has the latest write.',
        },
        error: {
          type: 'string',
          description: 'The last error applying it (Failed: the cluster refused it).',
        },
        attempts: { type: 'integer', description: 'Failed attempts since the last change.' },
        appliedVersion: { type: 'integer', description: 'The version the cluster has.' },
      },
    },
    Capp: {
      type: 'object',
      properties: {
        apiVersion: { type: 'string', example: 'rcs.dana.io/v1alpha1' },
        kind: { type: 'string', example: 'Capp' },
        metadata: meta,
        spec: schemaRef('CappSpec'),
        status: schemaRef('CappStatus'),
        sync: schemaRef('Sync'),
      },
    },
    CappList: {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string', example: 'CappList' },
        metadata: {
          type: 'object',
          properties: {
            continue: { type: 'string', description: 'Token of the next page; absent on the last.' },
          },
        },
        items: { type: 'array', items: schemaRef('Capp') },
      },
    },
    Revision: {
      type: 'object',
      properties: {
        number: { type: 'integer', example: 3 },
        source: { type: 'string', enum: ['api', 'cluster', 'rollback'] },
        createdBy: { type: 'string', nullable: true, example: 'alice' },
        createdAt: { type: 'string', format: 'date-time' },
        metadata: labelsAndAnnotations,
        spec: schemaRef('CappSpec'),
      },
    },
    CappTrait: {
      type: 'object',
      description: 'A patch trait app teams may name in spec.traits (cluster-scoped).',
      properties: {
        apiVersion: { type: 'string', example: 'rcs.dana.io/v1alpha1' },
        kind: { type: 'string', example: 'CappTrait' },
        metadata: meta,
        spec: toOpenApi(cappTraitSpecSchema, { cel: false }),
      },
    },
    CappTraitList: {
      type: 'object',
      properties: {
        apiVersion: { type: 'string', example: 'rcs.dana.io/v1alpha1' },
        kind: { type: 'string', example: 'CappTraitList' },
        items: { type: 'array', items: schemaRef('CappTrait') },
      },
    },
    RevisionList: { type: 'object', properties: { items: { type: 'array', items: schemaRef('Revision') } } },
    HealthScopeWrite: toOpenApi(healthScopeWriteSchema, { cel: false }),
    HealthScopeStatus: scopeStatus,
    HealthScope: {
      type: 'object',
      properties: {
        apiVersion: { type: 'string', example: 'rcs.dana.io/v1alpha1' },
        kind: { type: 'string', example: 'HealthScope' },
        metadata: meta,
        spec: toOpenApi(healthScopeSpecSchema, { cel: false }),
        status: schemaRef('HealthScopeStatus'),
      },
    },
    HealthScopeList: {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string', example: 'HealthScopeList' },
        items: { type: 'array', items: schemaRef('HealthScope') },
      },
    },
    HealthReport: {
      type: 'object',
      required: ['namespace', 'name', 'health', 'healthy', 'total', 'counts', 'message', 'members'],
      properties: {
        namespace: { type: 'string' },
        name: { type: 'string' },
        health: { type: 'string', enum: ['Healthy', 'Unhealthy', 'Unknown', 'Empty'] },
        healthy: { type: 'boolean', description: 'health is Healthy (the answer is then 200).' },
        total: { type: 'integer' },
        counts: {
          type: 'object',
          properties: {
            healthy: { type: 'integer' },
            unhealthy: { type: 'integer' },
            unknown: { type: 'integer' },
            disabled: { type: 'integer' },
          },
        },
        lastChanged: { type: 'string', format: 'date-time', description: 'When health last changed.' },
        message: { type: 'string', example: 'api: ProbeFailed (HTTP 500 from GET /healthz)' },
        members: {
          ...scopeStatus.properties['capps'],
          description: 'Every member, with its health and reason.',
        },
      },
    },
    Error: {
      type: 'object',
      required: ['statusCode', 'error', 'message', 'details'],
      properties: {
        statusCode: { type: 'integer', example: 400 },
        error: { type: 'string', example: 'Bad Request' },
        message: {
          type: 'string',
          example: 'the request is invalid: spec.scaleMetric must be one of concurrency, rps, cpu, memory',
        },
        details: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              path: { type: 'string', example: 'spec.scaleMetric' },
              rule: { type: 'string', example: 'enum' },
              message: { type: 'string', example: 'must be one of concurrency, rps, cpu, memory' },
            },
          },
        },
        errorId: { type: 'string', description: 'Only on 500: the id of the log line with the details.' },
      },
    },
  };
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Capp platform API')
    .setDescription(
      'Describe an app once as a Capp (rcs.dana.io/v1alpha1): the platform makes the Knative Service, hostname, ' +
        'TLS, volumes and log shipping. Writes are stored first, then applied to the cluster (`sync`). ' +
        'Authenticate with a Kubernetes bearer token; cluster RBAC on capps.rcs.dana.io decides what you may do.',
    )
    .setVersion('v1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      description: 'A Kubernetes token (e.g. `kubectl create token <sa>`).',
    })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = {
    ...document.components,
    schemas: {
      ...(document.components?.schemas ?? {}),
      ...(componentSchemas() as OpenAPIObject['components'] & object),
    },
  };
  return document;
}

export function mountSwagger(app: INestApplication): OpenAPIObject {
  const document = buildOpenApiDocument(app);
  // helmet's default CSP includes `upgrade-insecure-requests`: served over plain HTTP under any host
  // name but localhost, the browser then loads the UI's scripts (and sends "Try it out" calls) over
  // https, which this server does not speak — a blank page. The same policy without it for the UI.
  app.use('/docs', helmet.contentSecurityPolicy({ directives: { upgradeInsecureRequests: null } }));
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Capp platform API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
  return document;
}
