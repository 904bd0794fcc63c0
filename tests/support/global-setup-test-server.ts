import type { TestProject } from 'vitest/node';
import { setupStack } from './stack-setup.js';

export default (project: TestProject) => setupStack(project, ['test-server']);
