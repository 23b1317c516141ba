export interface Config {
  paved?: {
    /**
     * True when the local stack runs the Knative status simulator instead of
     * Knative: app URLs are then simulated, and the UI says so.
     * @visibility frontend
     */
    simulatedKnative?: boolean;
  };
}
