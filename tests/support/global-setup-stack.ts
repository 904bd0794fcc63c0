import type { TestProject } from 'vitest/node';
import { setupStack } from './stack-setup.js';

export default (project: TestProject) =>
  setupStack(project, ['temporal', 'kafka', 's3', 'fakesnow', 'influxdb']);
