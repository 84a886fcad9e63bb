/**
 * Errors of the certificate core. Each says what was wrong with which input, so that the CLI
 * can print the message as it is.
 *
 * @module
 */

/** A certificate request that cannot be used: not DER, not a PKCS#10 request, or a bad signature. */
export class CertificateRequestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CertificateRequestError";
  }
}

/** `serial.txt` does not hold a usable serial number. */
export class SerialFileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SerialFileError";
  }
}

/** A certificate or key file that cannot be read, or a key that does not belong to its certificate. */
export class KeyMaterialError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeyMaterialError";
  }
}
