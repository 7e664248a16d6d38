import type { EmulatorCore } from '../../core/core.ts';

export function registerConnect(_core: EmulatorCore): void {}
