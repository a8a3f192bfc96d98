/**
 * How often each SIMD-capable kernel ran on SIMD and how often it fell back (and why), since the last reset: the
 * step profile (step-profile.ts) reports it, so a shape the kernels do not take shows instead of passing unseen.
 */
export interface KernelUse {
  simd: number;
  fallback: number;
  /** Why calls fell back, each reason once. */
  reasons: string[];
}

const uses = new Map<string, { simd: number; fallback: number; reasons: Set<string> }>();

/** Counts a call of `kernel`: SIMD when `fallbackReason` is null. */
export function countUse(kernel: string, fallbackReason: string | null): void {
  const use = uses.get(kernel) ?? { simd: 0, fallback: 0, reasons: new Set<string>() };
  if (fallbackReason === null) use.simd++;
  else {
    use.fallback++;
    use.reasons.add(fallbackReason);
  }
  uses.set(kernel, use);
}

export function kernelUse(): Record<string, KernelUse> {
  return Object.fromEntries([...uses].map(([name, u]) => [name, { simd: u.simd, fallback: u.fallback, reasons: [...u.reasons] }]));
}

export function resetKernelUse(): void {
  uses.clear();
}
