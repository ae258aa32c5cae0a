/**
 * Runtime configuration: `GET /v1/config` (public: the enabled customer-config components),
 * `GET /v1/applications` (public: UI plug-in applications among them), the editable declarations
 * `/v1/config/declarations[/{id}]` and the dynamic key/value settings `/v1/dynamic-config/`.
 * Other domains read settings through `dynamic.getBool(KEY, default)` and
 * `customer.isComponentEnabled(id)`.
 */
import type { Infra } from '../infra.js';
import type { Module } from '../module.js';
import { CustomerConfigService, loadCustomerConfig, type Component } from './customer-config.js';
import { DynamicConfigService } from './dynamic-config.js';
import { runtimeConfigRoutes } from './routes.js';

export interface RuntimeConfigServices {
  dynamic: DynamicConfigService;
  customer: CustomerConfigService;
}

export function runtimeConfigModule(infra: Infra): Module<RuntimeConfigServices> {
  const { config } = infra;
  const dynamic = new DynamicConfigService(infra.store.db, infra.log);
  const runtime = (): Component[] => [
    { id: 'features:enterpriseEdition', settings: { enabled: false } },
    { id: 'features:userManagement', settings: { enabled: true } },
    { id: 'idpProvider', settings: { enabled: true, availableForExternal: true, value: config.idp === 'embedded' ? 'local' : 'keycloak' } },
  ];
  const customer = new CustomerConfigService({
    components: [],
    dynamic,
    runtime,
    onError: (err) => infra.log.warn({ err: err.message }, 'customer config overrides could not be read; serving the last known ones'),
  });
  return {
    name: 'runtime-config',
    services: { dynamic, customer },
    routes: runtimeConfigRoutes({ dynamic, customer, audit: infra.audit }),
    init() {
      // A file that does not read stops the start-up with a message naming CODEMIE_CUSTOMER_CONFIG.
      customer.load(loadCustomerConfig(config.customerConfig));
    },
  };
}
