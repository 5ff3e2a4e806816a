import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

import type { AuthenticatedUser } from '../infra/kube/kube.gateway';
import { Authenticator } from './authenticator';

const ACCESS = 'capp:access';

export interface AccessRule {
  verb: 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';
  /** The resource of group rcs.dana.io the verb is on (default `capps`). */
  resource?: 'capps' | 'healthscopes' | 'capptraits';
  /** The handler checks per namespace itself (e.g. a list across the namespaces the user may see). */
  perNamespace?: boolean;
}

/** The Kubernetes verb on capps.rcs.dana.io (or `resource`) this route needs, in the `:ns` of its path. */
export const Access = (verb: AccessRule['verb'], options: Omit<AccessRule, 'verb'> = {}): MethodDecorator =>
  SetMetadata(ACCESS, { verb, ...options });

export interface AuthedRequest extends Request {
  user?: AuthenticatedUser;
}

/** Authenticates every route marked with @Access and authorizes it in the path's namespace. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.get<AccessRule | undefined>(ACCESS, context.getHandler());
    if (!rule) return true; // public: health, metrics, docs
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const user = await this.authenticator.authenticate(req.headers.authorization);
    req.user = user;
    if (!rule.perNamespace) {
      const params = req.params as Record<string, string | undefined>;
      await this.authenticator.authorize(user, {
        verb: rule.verb,
        resource: rule.resource,
        namespace: params['ns'] ?? '',
        name: params['name'],
      });
    }
    return true;
  }
}
