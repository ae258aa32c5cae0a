/** External providers (reference `providers`): a service URL and the toolkits it offers (JSON). */
export interface ProvidersTable {
  id: string;
  name: string;
  service_location_url: string;
  /** JSON {auth_type} */
  configuration: string;
  /** JSON ProviderToolkit[] */
  provided_toolkits: string;
  date: string;
  update_date: string;
}

declare module '../store/schema.js' {
  interface Database {
    providers: ProvidersTable;
  }
}
