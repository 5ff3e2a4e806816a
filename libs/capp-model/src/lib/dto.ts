import { cappSchema, cappSpecSchema, cappWriteSchema } from './capp.schema';
import { Capp, CappSpec, CappWrite } from './capp.types';
import { classFor } from './schema/class-validator';

/**
 * class-validator classes for the API's ValidationPipe, built from the same schema as `validateCapp`
 * and the CRD. Use with `whitelist: true, forbidNonWhitelisted: true, transform: true`.
 */
export const CappDto = classFor(cappSchema, 'Capp') as new () => Capp;
export const CappSpecDto = classFor(cappSpecSchema, 'CappSpec') as new () => CappSpec;
/** The REST API's write body (`cappWriteSchema`): metadata (name, namespace, labels, annotations) + spec. */
export const CappWriteDto = classFor(cappWriteSchema, 'CappWrite') as new () => CappWrite;
