export interface Config {
  /** Paved: tenants and apps on your own Kubernetes. */
  paved?: {
    /**
     * The plan catalogue, keyed by plan name; entries replace the default
     * plan of the same name (free, starter, pro, enterprise) or add plans.
     */
    plans?: {
      [name: string]: {
        description?: string;
        /** Total CPU of the tenant, e.g. '4' or '500m'. */
        cpu: string;
        /** Total memory of the tenant, e.g. '8Gi'. */
        memory: string;
        maxApps: number;
      };
    };
    /** Prefix of tenant namespaces; must match the operator's. Default 'tenant-'. */
    namespacePrefix?: string;
    /**
     * The cluster Tenant and App resources are applied to. Without this (and
     * without KUBECONFIG in the environment) writes are saved and wait for a
     * cluster, and status is unknown.
     */
    kubernetes?: {
      /** Path of a kubeconfig file; its current context is used. */
      kubeconfig?: string;
      /** Use the pod's service account (when Backstage runs in the cluster). */
      inCluster?: boolean;
    };
    sync?: {
      /** How often rows the cluster has not accepted are re-applied. Default 15. */
      frequencySeconds?: number;
    };
    catalog?: {
      /** How often the catalog module reads the apps. Default 10. */
      frequencySeconds?: number;
      /**
       * Show Paved's app entities to every signed-in user, for
       * organisations that want that. By default (false) Paved's permission
       * policy shows them only to the app's owner group and
       * paved.permissions.admins.
       */
      visibleToAll?: boolean;
    };
    permissions?: {
      /**
       * Entity refs (users or groups) of the platform team, for Paved's
       * default policy (permissionModulePavedPolicy): allowed everything,
       * including overriding plan limits.
       */
      admins?: string[];
    };
    /**
     * Paved's write rate limit, per identity (user or service token),
     * counted in the database so all replicas share it. Over the limit,
     * writes answer 429 with Retry-After. Reads are not limited here (use
     * Backstage's backend.rateLimit, which limits by client IP).
     */
    rateLimit?: {
      /** Writes allowed per identity and window; 0 turns the limit off. Default 120. */
      writes?: number;
      /** The window, in seconds. Default 60. */
      windowSeconds?: number;
    };
    /**
     * Encryption of secret env values in the database (AES-256-GCM). With
     * neither `keys` nor `encryptionKey`, secret env vars are refused with
     * 503. See "Rotating the encryption key" in the README.
     */
    secrets?: {
      /**
       * One passphrase, stored ciphertexts name it by the key id "default".
       * With `keys` set as well it only decrypts (listed after them), which
       * is how a rotation away from it starts.
       * @visibility secret
       */
      encryptionKey?: string;
      /**
       * Keys by id: the first encrypts new values, every one decrypts, and
       * at startup the backend re-encrypts every stored value under the
       * first. Remove a key only once the startup log reports nothing left
       * under it.
       */
      keys?: Array<{
        /** Stored with each ciphertext: 1 to 64 letters, digits, "_" or "-". */
        id: string;
        /**
         * The passphrase (its SHA-256 is the AES key), e.g. the output of
         * `openssl rand -base64 32`.
         * @visibility secret
         */
        key: string;
      }>;
    };
  };
}
