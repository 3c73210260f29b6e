// Every metric name dockmaster exports, in one place; dashboards and tests read this table. Pure.

export const METRIC = {
  proxyRequestsTotal: 'dockmaster_proxy_requests_total',
  proxyRequestDurationSeconds: 'dockmaster_proxy_request_duration_seconds',
  proxyInFlightRequests: 'dockmaster_proxy_in_flight_requests',
  proxyUpstreamErrorsTotal: 'dockmaster_proxy_upstream_errors_total',
  proxyRetriesTotal: 'dockmaster_proxy_retries_total',
  proxyRetryBudgetExhaustedTotal: 'dockmaster_proxy_retry_budget_exhausted_total',
  proxyRejectedRequestsTotal: 'dockmaster_proxy_rejected_requests_total',
  proxyUpgradesTotal: 'dockmaster_proxy_upgrades_total',
  proxyOpenUpgrades: 'dockmaster_proxy_open_upgrades',
  configReloadsTotal: 'dockmaster_config_reloads_total',
  configLastReloadSuccess: 'dockmaster_config_last_reload_success',
  configLastReloadTimestampSeconds: 'dockmaster_config_last_reload_timestamp_seconds',
  routingTableVersion: 'dockmaster_routing_table_version',
  routingRoutes: 'dockmaster_routing_routes',
  routingTableRebuildsTotal: 'dockmaster_routing_table_rebuilds_total',
  endpointHealthy: 'dockmaster_endpoint_healthy',
  endpointEjectionsTotal: 'dockmaster_endpoint_ejections_total',
  endpointsEjected: 'dockmaster_endpoints_ejected',
  poolPanic: 'dockmaster_pool_panic',
  poolPanicTotal: 'dockmaster_pool_panic_total',
  registryProviderUp: 'dockmaster_registry_provider_up',
  registryLastSyncTimestampSeconds: 'dockmaster_registry_last_sync_timestamp_seconds',
  registrySkippedEntries: 'dockmaster_registry_skipped_entries',
  serviceReplicas: 'dockmaster_service_replicas',
  serviceDesiredReplicas: 'dockmaster_service_desired_replicas',
  replicaRestartsTotal: 'dockmaster_replica_restarts_total',
  replicaStartFailuresTotal: 'dockmaster_replica_start_failures_total',
  replicaHealthChangesTotal: 'dockmaster_replica_health_changes_total',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
