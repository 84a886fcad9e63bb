/**
 * pkcs11.txt, the module list NSS writes next to cert9.db and key4.db (certutil -N): the
 * internal module with the database directory as `configdir`. Byte for byte what NSS 3.87
 * writes for `certutil -N -d DIR`.
 *
 * @module
 */

/** The text of pkcs11.txt for a database in `dir`. */
export function pkcs11Text(dir: string): string {
  return "library=\n" +
    "name=NSS Internal PKCS #11 Module\n" +
    `parameters=configdir='${dir}' certPrefix='' keyPrefix='' secmod='secmod.db' flags= ` +
    "updatedir='' updateCertPrefix='' updateKeyPrefix='' updateid='' " +
    "updateTokenDescription='' \n" +
    "NSS=Flags=internal,critical trustOrder=75 cipherOrder=100 slotParams=(1={slotFlags=[ECC," +
    "RSA,DSA,DH,RC2,RC4,DES,RANDOM,SHA1,MD5,MD2,SSL,TLS,AES,Camellia,SEED,SHA256,SHA512] " +
    "askpw=any timeout=30})\n\n";
}
