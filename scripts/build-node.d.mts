export declare const NODE_ENTRIES: Record<"server" | "worker", string>;
export declare function buildNode(outdir: string): Promise<void>;
