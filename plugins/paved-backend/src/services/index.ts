export { AppService } from './AppService';
export type { AppWriteResult } from './AppService';
export { TenantService } from './TenantService';
export { ServiceContext, actorOf } from './context';
export type { ServiceOptions } from './context';
