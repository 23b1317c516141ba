/**
 * Validation of everything a user types: names, images, ports, quantities,
 * env var names and domains. Each check returns the problem in words that
 * tell the user what to fix, or undefined when the value is fine; the zod
 * schemas in ./schemas.ts wrap these, so the API, the scaffolder actions and
 * the UI all reject the same values with the same message.
 */
import {
  CPU_QUANTITY_PATTERN,
  MEMORY_QUANTITY_PATTERN,
  parseCpuMillis,
  parseMemoryBytes,
} from './quantity';
import { DEFAULT_NAMESPACE_PREFIX } from './identity';

/** DNS-1035 label: what Kubernetes requires of Service names, and so of apps. */
export const DNS_LABEL_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
const DNS_LABEL = new RegExp(DNS_LABEL_PATTERN);

/** `tenant-<name>` must still be a 63-character DNS label. */
export const TENANT_NAME_MAX_LENGTH = 63 - DEFAULT_NAMESPACE_PREFIX.length;
/**
 * Knative names revisions `<app>-00001`, and those must be DNS labels too;
 * 50 leaves room for the suffix and for Knative's generated route names.
 */
export const APP_NAME_MAX_LENGTH = 50;

function dnsLabelProblem(
  value: string,
  what: string,
  maxLength: number,
  why: string,
): string | undefined {
  if (value.length === 0) {
    return `${what} is empty; give a name such as "my-service"`;
  }
  if (value.length > maxLength) {
    return `${what} "${value}" is ${value.length} characters; use at most ${maxLength} ${why}`;
  }
  if (/[A-Z]/.test(value)) {
    return `${what} "${value}" has uppercase letters; use lowercase (${value.toLowerCase()})`;
  }
  if (!/^[a-z]/.test(value)) {
    return `${what} "${value}" must start with a lowercase letter (a-z)`;
  }
  if (!/[a-z0-9]$/.test(value)) {
    return `${what} "${value}" must end with a lowercase letter or digit`;
  }
  const bad = value.match(/[^-a-z0-9]/);
  if (bad) {
    return `${what} "${value}" contains "${bad[0]}"; use only lowercase letters, digits and "-"`;
  }
  return DNS_LABEL.test(value)
    ? undefined
    : `${what} "${value}" is not a valid DNS label`;
}

export function tenantNameProblem(name: string): string | undefined {
  return dnsLabelProblem(
    name,
    'Tenant name',
    TENANT_NAME_MAX_LENGTH,
    `so that its namespace "${DEFAULT_NAMESPACE_PREFIX}<name>" stays a valid DNS label`,
  );
}

export function appNameProblem(name: string): string | undefined {
  return dnsLabelProblem(
    name,
    'App name',
    APP_NAME_MAX_LENGTH,
    'so that Knative can name its revisions after it',
  );
}

// The grammar of github.com/distribution/reference, without look-arounds so
// that the same patterns work in the CRD (Go's RE2) and in JavaScript.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = 'sha256:[a-f0-9]{64}';
/** An image with a tag, a digest or both: `registry/repo:tag`, `repo@sha256:…`. */
export const IMAGE_PATTERN = `^${NAME}(?::${TAG}(?:@${DIGEST})?|@${DIGEST})$`;
const IMAGE = new RegExp(IMAGE_PATTERN);
const IMAGE_NAME = new RegExp(`^${NAME}$`);
export const IMAGE_MAX_LENGTH = 512;

export function imageProblem(image: string): string | undefined {
  if (image.trim() === '') {
    return 'Image is empty; give one such as "ghcr.io/acme/web:1.4.2"';
  }
  if (image.length > IMAGE_MAX_LENGTH) {
    return `Image reference is ${image.length} characters; at most ${IMAGE_MAX_LENGTH} are allowed`;
  }
  if (/\s/.test(image)) {
    return `Image "${image}" contains white space; remove it`;
  }
  if (IMAGE.test(image)) {
    return undefined;
  }
  if (image.includes('://')) {
    return `Image "${image}" must not start with a scheme; write it as "registry.example.com/team/app:1.0"`;
  }
  const at = image.indexOf('@');
  if (at >= 0 && !new RegExp(`^${DIGEST}$`).test(image.slice(at + 1))) {
    return `Image "${image}" has a malformed digest; write "@sha256:" followed by 64 lowercase hex characters`;
  }
  const beforeDigest = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.indexOf(':', lastSlash + 1);
  const name = colon >= 0 ? beforeDigest.slice(0, colon) : beforeDigest;
  if (!IMAGE_NAME.test(name)) {
    return `Image "${image}" has an invalid repository name "${name}"; repository paths use lowercase letters, digits and the separators ".", "_", "__" and "-"`;
  }
  if (colon < 0 && at < 0) {
    return `Image "${image}" has no tag or digest; add one, for example "${image}:1.0" or "${image}@sha256:<digest>"`;
  }
  return `Image "${image}" has an invalid tag "${beforeDigest.slice(
    colon + 1,
  )}"; a tag is up to 128 letters, digits, "_", "." and "-" and cannot start with "." or "-"`;
}

/**
 * Ports the Knative queue-proxy sidecar listens on in every pod (its HTTP,
 * HTTP/2, admin, metrics and profiling ports): Knative's webhook refuses a
 * container port among them (serving's k8s_validation.go, reservedPorts).
 */
export const KNATIVE_RESERVED_PORTS = [8008, 8012, 8013, 8022, 9090, 9091];

export function portProblem(port: number): string | undefined {
  if (!Number.isInteger(port)) {
    return `Port ${port} is not a whole number`;
  }
  if (port < 1 || port > 65535) {
    return `Port ${port} is out of range; use a port from 1 to 65535 (the one your container listens on, often 8080)`;
  }
  if (KNATIVE_RESERVED_PORTS.includes(port)) {
    return `Port ${port} is reserved by the platform's request proxy (${KNATIVE_RESERVED_PORTS.join(
      ', ',
    )}); make your container listen on another port, such as 8080`;
  }
  return undefined;
}

export const CPU_MIN_MILLIS = 10;
export const CPU_MAX_MILLIS = 64_000;
export const MEMORY_MIN_BYTES = 16 * 2 ** 20;
export const MEMORY_MAX_BYTES = 256 * 2 ** 30;

export function cpuProblem(quantity: string, what = 'CPU'): string | undefined {
  const millis = parseCpuMillis(quantity);
  if (millis === undefined) {
    return `${what} "${quantity}" is not a CPU quantity; write cores ("0.5", "2") or millicores ("500m")`;
  }
  if (millis < CPU_MIN_MILLIS || millis > CPU_MAX_MILLIS) {
    return `${what} "${quantity}" is out of range; use from ${CPU_MIN_MILLIS}m to ${
      CPU_MAX_MILLIS / 1000
    } cores`;
  }
  return undefined;
}

export function memoryProblem(
  quantity: string,
  what = 'Memory',
): string | undefined {
  const bytes = parseMemoryBytes(quantity);
  if (bytes === undefined) {
    return `${what} "${quantity}" is not a memory quantity; write it with a unit, such as "256Mi" or "1Gi"`;
  }
  if (bytes < MEMORY_MIN_BYTES || bytes > MEMORY_MAX_BYTES) {
    return `${what} "${quantity}" is out of range; use from 16Mi to 256Gi`;
  }
  return undefined;
}

export { CPU_QUANTITY_PATTERN, MEMORY_QUANTITY_PATTERN };

export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** Set by Knative in every revision; a user value would be overwritten. */
export const RESERVED_ENV_NAMES = [
  'PORT',
  'K_SERVICE',
  'K_CONFIGURATION',
  'K_REVISION',
];
export const ENV_NAME_MAX_LENGTH = 128;

export function envNameProblem(name: string): string | undefined {
  if (name.length === 0) {
    return 'Env var name is empty';
  }
  if (name.length > ENV_NAME_MAX_LENGTH) {
    return `Env var name "${name.slice(0, 20)}…" is ${
      name.length
    } characters; use at most ${ENV_NAME_MAX_LENGTH}`;
  }
  if (!new RegExp(ENV_NAME_PATTERN).test(name)) {
    return `Env var name "${name}" is invalid; use letters, digits and "_", not starting with a digit (for example DATABASE_URL)`;
  }
  if (RESERVED_ENV_NAMES.includes(name)) {
    return `Env var ${name} is set by the platform; choose another name`;
  }
  return undefined;
}

export const DOMAIN_PATTERN =
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$';

export function domainProblem(domain: string): string | undefined {
  if (domain.length > 253) {
    return `Domain "${domain.slice(0, 30)}…" is ${
      domain.length
    } characters; use at most 253`;
  }
  if (domain.startsWith('*.')) {
    return `Domain "${domain}" is a wildcard; map each host name on its own`;
  }
  if (/[A-Z]/.test(domain)) {
    return `Domain "${domain}" has uppercase letters; use lowercase (${domain.toLowerCase()})`;
  }
  if (domain.split('.').some(label => label.length > 63)) {
    return `Domain "${domain}" has a label longer than 63 characters`;
  }
  if (!new RegExp(DOMAIN_PATTERN).test(domain)) {
    return `Domain "${domain}" is not a host name such as "shop.example.com"; use lowercase letters, digits, "-" and at least one "."`;
  }
  return undefined;
}

/** A Backstage group entity ref in full form. */
export const GROUP_REF_PATTERN =
  '^group:[a-z0-9]([-_.a-z0-9]*[a-z0-9])?/[a-zA-Z0-9]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$';

export function groupRefProblem(ref: string): string | undefined {
  if (!new RegExp(GROUP_REF_PATTERN).test(ref) || ref.length > 253) {
    return `Owner "${ref}" is not a group entity ref; write it as "group:default/team-a"`;
  }
  return undefined;
}
