// Lint rules that matter for a proxy: no forgotten promises, no pure module reaching for I/O.
import tseslint from 'typescript-eslint';

const browserGlobals = ['window', 'document', 'console', 'fetch', 'Headers', 'Node', 'sessionStorage', 'setTimeout', 'clearTimeout',
  'setInterval', 'clearInterval', 'URLSearchParams', 'TextDecoderStream', 'AbortController'];

const ioModules = ['node:net', 'node:http', 'node:https', 'node:child_process', 'node:fs', 'node:fs/promises',
  'node:dgram', 'node:tls', 'undici', 'fastify', 'dockerode', 'consul', 'ws'];

export default tseslint.config(
  { ignores: ['dist/**', '.build-*/**', 'node_modules/**', 'load-tests/**', 'eslint.config.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    // The status page's script runs in a browser as plain JS: no type information, browser
    // globals only (no-undef catches a misspelt name that type checking would have).
    files: ['src/admin/ui/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: Object.fromEntries(browserGlobals.map((name) => [name, 'readonly'])),
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-undef': 'error' },
  },
  {
    // Pure folders: decisions only. Sockets, files, Docker and HTTP clients live in shells.
    files: ['src/routing/**', 'src/balancing/**', 'src/model/**', 'src/health/thresholds*.ts', 'src/deploy/plan/**', 'src/autoscale/recommend*.ts', 'src/autoscale/replica-math.ts', 'src/autoscale/stabilizer.ts', 'src/autoscale/rate-limit.ts', 'src/autoscale/panic.ts', 'src/autoscale/scale-to-zero.ts', 'src/autoscale/decide.ts', 'src/hosts/placement*.ts', 'src/hosts/leadership*.ts', 'src/hosts/host-health.ts', 'src/runtime/docker/container-limits.ts', 'src/runtime/multi-host/docker-endpoint.ts', 'src/runtime/multi-host/duplicates.ts', 'src/runtime/multi-host/generation.ts', 'src/runtime/multi-host/host-replica-cache.ts', 'src/runtime/multi-host/host-usage.ts', 'src/runtime/multi-host/qualified-id.ts', 'src/runtime/multi-host/host-events.ts', 'src/runtime/multi-host/docker-host-entry.ts', 'src/config/hosts-schema.ts', 'src/config/placement-schema.ts', 'src/config/label-rules.ts', 'src/cli/format-hosts.ts', 'src/cli/host-args.ts', 'src/proxy/headers.ts', 'src/proxy/normalize-path.ts', 'src/proxy/retry-policy.ts', 'src/proxy/upstream-errors.ts', 'src/config/route-schema.ts', 'src/config/schema-problems.ts', 'src/config/check-route-set.ts', 'src/config/parse-yaml-documents.ts', 'src/config/yaml-document-edit.ts', 'src/config/deep-freeze.ts', 'src/config/service-schema.ts', 'src/config/deploy-schema.ts', 'src/config/autoscale-schema.ts', 'src/autoscale/metric-windows.ts', 'src/proxy/hold-queue.ts', 'src/autoscale/prometheus-response.ts', 'src/deploy/deploy-state.ts', 'src/config/yaml-document-set-in.ts', 'src/runtime/revision.ts', 'src/runtime/json-lines.ts', 'src/runtime/replica-env.ts', 'src/runtime/proc-net.ts', 'src/runtime/*/observe-*.ts', 'src/runtime/docker/docker-logs.ts', 'src/deploy/plan/**', 'src/endpoints/endpoint-set.ts', 'src/cli/format-status.ts', 'src/cli/format-rollout.ts', 'src/cli/deploy-spec.ts', 'src/cli/client-args.ts', 'src/cli/text-table.ts', 'src/registry/docker/translate-containers.ts', 'src/registry/docker/resync-events.ts', 'src/registry/docker/docker-host.ts', 'src/health/outlier.ts', 'src/health/pool-overlay.ts', 'src/registry/consul/translate-*.ts', 'src/registry/consul/blocking-index.ts', 'src/registry/consul/token-bucket.ts', 'src/registry/consul/backoff.ts', 'src/registry/consul/registration.ts', 'test/load/rate-schedule.ts', 'test/load/quantile.ts', 'test/load/evaluate-thresholds.ts', 'test/load/measure-run.ts', 'test/load/chart-data.ts', 'test/load/svg-chart.ts', 'test/load/html-report.ts', 'test/load/format-summary.ts', 'test/load/load-args.ts', 'test/load/load-records.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ioModules.map((name) => ({ name, message: 'pure module: keep I/O in a shell' })) }],
    },
  },
);
