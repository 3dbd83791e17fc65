// The Java 7 platform's TLS front, played by the real JSSE of the JDK on this machine. One source
// file, no build tool: jvm.ts compiles it once per source into node_modules/.cache (or runs it with
// `java <options> JsseFront.java` where javac is missing); the options (jvm.ts) give JSSE Java 7's
// ephemeral DH size and re-enable what Java 7 allowed (java7.security).
//
// The harness starts one such JVM and drives it with JSON lines:
//   stdin  {"op":"listen","ref":"1","id":"e1","host":"127.0.0.1","port":P,"certFiles":[..],"keyFile":"..",
//           "forwardPort":N,"protocols":[..],"suites":[..],"leadingZeroBug":false}
//          {"op":"close","ref":"2","id":"e1"}
//   stdout {"event":"ready",...} once, then one {"ref":..,"ok":true|false,...} per request; a port
//          already in use is {"ok":false,"code":"EADDRINUSE",...} (the harness picks the port from
//          its range and tries another).
// Each accepted connection opens its own loopback TCP connection to forwardPort and writes JSON
// lines about itself there: tcp-accepted, then handshake-ok or handshake-failed. After
// handshake-ok come an empty line, one byte of acknowledgement back, then the plaintext both
// ways. Reporting on the connection itself keeps its events ahead of its bytes.
// End of stdin (the harness is gone) ends the JVM.

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.math.BigInteger;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.KeyAgreement;
import javax.crypto.KeyAgreementSpi;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

public class JsseFront {
    private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    private static final Map<String, Listener> LISTENERS = new ConcurrentHashMap<>();

    public static void main(String[] args) throws IOException {
        LeadingZeroDh.install();
        Map<String, Object> ready = new LinkedHashMap<>();
        ready.put("event", "ready");
        ready.put("java", System.getProperty("java.version"));
        ready.put("ephemeralDHKeySize", String.valueOf(System.getProperty("jdk.tls.ephemeralDHKeySize")));
        emit(ready);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (!line.isBlank()) handle(line);
        }
        System.exit(0);
    }

    private static void handle(String line) {
        Map<String, Object> reply = new LinkedHashMap<>();
        try {
            Map<String, Object> req = Json.object(Json.parse(line), "request");
            reply.put("ref", Json.string(req, "ref"));
            String op = Json.string(req, "op");
            String id = Json.string(req, "id");
            if (op.equals("listen")) {
                if (LISTENERS.containsKey(id)) throw new IllegalArgumentException("listener " + id + " exists");
                Listener l = new Listener(id, req);
                LISTENERS.put(id, l);
                reply.put("port", l.server.getLocalPort());
                l.start();
            } else if (op.equals("close")) {
                Listener l = LISTENERS.remove(id);
                if (l != null) l.close();
            } else {
                throw new IllegalArgumentException("unknown op " + op);
            }
            reply.put("ok", true);
        } catch (Exception e) {
            reply.put("ok", false);
            reply.put("error", e.toString());
            if (e instanceof BindException && String.valueOf(e.getMessage()).contains("in use")) reply.put("code", "EADDRINUSE");
        }
        emit(reply);
    }

    static void emit(Map<String, Object> message) {
        synchronized (OUT) {
            OUT.println(Json.write(message));
        }
    }

    /** One platform endpoint: an SSLServerSocket with a Java 7 server's protocols, suites and order. */
    static final class Listener {
        final String id;
        final SSLServerSocket server;
        final int forwardPort;
        final boolean leadingZeroBug;
        final Set<Socket> open = ConcurrentHashMap.newKeySet();
        Thread acceptor;

        Listener(String id, Map<String, Object> req) throws Exception {
            this.id = id;
            this.forwardPort = Json.integer(req, "forwardPort");
            this.leadingZeroBug = Json.bool(req, "leadingZeroBug");
            List<String> certFiles = Json.strings(req, "certFiles");
            String keyFile = Json.string(req, "keyFile");
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<Certificate> chain = new ArrayList<>();
            for (String f : certFiles) {
                try (InputStream s = Files.newInputStream(Paths.get(f))) {
                    chain.addAll(cf.generateCertificates(s));
                }
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] pw = new char[0];
            ks.setKeyEntry("platform", readKey(keyFile), pw, chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            server = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket();
            try {
                server.bind(new InetSocketAddress(InetAddress.getByName(Json.string(req, "host")), Json.integer(req, "port")));
            } catch (IOException e) {
                server.close();
                throw e;
            }
            SSLParameters params = server.getSSLParameters();
            params.setProtocols(Json.strings(req, "protocols").toArray(new String[0]));
            params.setCipherSuites(Json.strings(req, "suites").toArray(new String[0]));
            params.setUseCipherSuitesOrder(true);
            server.setSSLParameters(params);
        }

        void start() {
            acceptor = daemon("accept-" + id, () -> {
                while (!server.isClosed()) {
                    Socket s;
                    try {
                        s = server.accept();
                    } catch (IOException e) {
                        return; // closed
                    }
                    open.add(s);
                    daemon("conn-" + id, () -> serve((SSLSocket) s));
                }
            });
        }

        void serve(SSLSocket tls) {
            Socket plain = null;
            try {
                // Handshake flights and report lines are small writes: Nagle would hold each back
                // for the peer's delayed ACK (tens of milliseconds a handshake).
                tls.setTcpNoDelay(true);
                plain = new Socket(InetAddress.getLoopbackAddress(), forwardPort);
                plain.setTcpNoDelay(true);
                open.add(plain);
                OutputStream report = plain.getOutputStream();
                Map<String, Object> accepted = new LinkedHashMap<>();
                accepted.put("kind", "tcp-accepted");
                accepted.put("remote", tls.getInetAddress().getHostAddress() + ":" + tls.getPort());
                writeLine(report, Json.write(accepted));
                Map<String, Object> result = new LinkedHashMap<>();
                try {
                    LeadingZeroDh.ENABLED.set(leadingZeroBug);
                    tls.startHandshake();
                    SSLSession session = tls.getSession();
                    result.put("kind", "handshake-ok");
                    result.put("protocol", session.getProtocol());
                    result.put("cipher", session.getCipherSuite());
                } catch (IOException e) {
                    result.put("kind", "handshake-failed");
                    result.put("error", e.toString());
                } finally {
                    LeadingZeroDh.ENABLED.remove();
                }
                writeLine(report, Json.write(result));
                if (!"handshake-ok".equals(result.get("kind"))) return;
                writeLine(report, "");
                // The harness acknowledges the report before any plaintext flows, so the two never
                // share a read on its side.
                if (plain.getInputStream().read() < 0) return;
                Socket p = plain;
                Thread up = daemon("up-" + id, () -> pipe(tls, p));
                pipe(p, tls);
                up.join();
            } catch (IOException | InterruptedException e) {
                // The peer or the harness hung up: nothing to report beyond the close itself.
            } finally {
                closeQuietly(tls);
                closeQuietly(plain);
                open.remove(tls);
                if (plain != null) open.remove(plain);
            }
        }

        /** Returns once the port accepts nothing more. */
        void close() throws InterruptedException {
            closeQuietly(server);
            // With a thread in accept(), the JDK defers the descriptor's real close to that thread:
            // the port would still take connections for a moment after close() returned.
            acceptor.join();
            for (Socket s : open) closeQuietly(s);
        }
    }

    /** Copies until end of stream, then closes both ends so the other direction ends too. */
    static void pipe(Socket from, Socket to) {
        byte[] buf = new byte[16384];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // ends the pipe like end of stream
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    static void writeLine(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    static Thread daemon(String name, ThrowingRunnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Exception e) {
                // each body handles its own failures; nothing escapes a connection thread
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            // already closed
        }
    }

    /** An unencrypted PEM private key: PKCS#8 ("PRIVATE KEY") or PKCS#1 RSA ("RSA PRIVATE KEY"). */
    static PrivateKey readKey(String file) throws Exception {
        String pem = Files.readString(Paths.get(file), StandardCharsets.US_ASCII);
        boolean pkcs1 = pem.contains("-----BEGIN RSA PRIVATE KEY-----");
        if (!pkcs1 && !pem.contains("-----BEGIN PRIVATE KEY-----")) {
            throw new IllegalArgumentException(file + ": not an unencrypted PKCS#8 or PKCS#1 RSA PEM private key");
        }
        String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(b64);
        if (pkcs1) der = pkcs1ToPkcs8(der);
        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
    }

    /** PrivateKeyInfo { version 0, AlgorithmIdentifier { rsaEncryption, NULL }, OCTET STRING pkcs1 }. */
    static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
        byte[] version = {0x02, 0x01, 0x00};
        byte[] algId = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
        byte[] octets = tlv(0x04, pkcs1);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(version);
        body.writeBytes(algId);
        body.writeBytes(octets);
        return tlv(0x30, body.toByteArray());
    }

    static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int len = content.length;
        if (len < 0x80) {
            out.write(len);
        } else {
            byte[] l = BigInteger.valueOf(len).toByteArray();
            int skip = l[0] == 0 ? 1 : 0;
            out.write(0x80 | (l.length - skip));
            out.write(l, skip, l.length - skip);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    /**
     * Java 7's DH premaster-secret bug (JDK-8014618, fixed in 7u55/8): its DHKeyAgreement gave the
     * TLS premaster secret at the full modulus length, leading zero bytes kept, where TLS strips
     * them (RFC 5246 8.1.2). When the shared secret's first byte is zero (1 in 256) the two sides
     * derive different keys and the handshake fails at Finished. Installed first so that JSSE's
     * KeyAgreement.getInstance("DiffieHellman") lands here; it delegates to SunJCE and only keeps
     * the zeros on a connection thread whose listener switched the bug on.
     */
    static final class LeadingZeroDh extends KeyAgreementSpi {
        static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> false);
        private final KeyAgreement real;

        LeadingZeroDh() throws Exception {
            real = KeyAgreement.getInstance("DiffieHellman", "SunJCE");
        }

        static void install() {
            Security.insertProviderAt(new Java7DhProvider(), 1);
        }

        static final class Java7DhProvider extends Provider {
            Java7DhProvider() {
                super("Java7LeadingZeroDH", "1.0", "DH key agreement with Java 7's premaster secret");
                putService(new Provider.Service(this, "KeyAgreement", "DiffieHellman", LeadingZeroDh.class.getName(), List.of("DH"), null) {
                    @Override
                    public Object newInstance(Object param) throws NoSuchAlgorithmException {
                        try {
                            return new LeadingZeroDh();
                        } catch (Exception e) {
                            throw new NoSuchAlgorithmException(e);
                        }
                    }
                });
            }
        }

        @Override
        protected void engineInit(Key key, SecureRandom random) throws InvalidKeyException {
            real.init(key, random);
        }

        @Override
        protected void engineInit(Key key, AlgorithmParameterSpec params, SecureRandom random)
                throws InvalidKeyException, InvalidAlgorithmParameterException {
            real.init(key, params, random);
        }

        @Override
        protected Key engineDoPhase(Key key, boolean lastPhase) throws InvalidKeyException {
            return real.doPhase(key, lastPhase);
        }

        @Override
        protected byte[] engineGenerateSecret() {
            return real.generateSecret();
        }

        @Override
        protected int engineGenerateSecret(byte[] sharedSecret, int offset) throws ShortBufferException {
            return real.generateSecret(sharedSecret, offset);
        }

        @Override
        protected SecretKey engineGenerateSecret(String algorithm) throws NoSuchAlgorithmException, InvalidKeyException {
            if (algorithm.equals("TlsPremasterSecret") && ENABLED.get()) {
                return new SecretKeySpec(real.generateSecret(), "TlsPremasterSecret"); // modulus length, zeros kept
            }
            return real.generateSecret(algorithm);
        }
    }

    /** Just enough JSON for the control protocol: objects, arrays, strings, numbers, booleans, null. */
    static final class Json {
        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        static Object parse(String text) {
            Json p = new Json(text);
            Object v = p.value();
            p.ws();
            if (p.i != text.length()) throw p.error("trailing characters");
            return v;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> object(Object v, String what) {
            if (!(v instanceof Map)) throw new IllegalArgumentException(what + " is not a JSON object");
            return (Map<String, Object>) v;
        }

        static String string(Map<String, Object> o, String key) {
            Object v = o.get(key);
            if (!(v instanceof String)) throw new IllegalArgumentException(key + ": expected a string");
            return (String) v;
        }

        static int integer(Map<String, Object> o, String key) {
            Object v = o.get(key);
            if (!(v instanceof Double) || ((Double) v) != Math.rint((Double) v)) throw new IllegalArgumentException(key + ": expected an integer");
            return ((Double) v).intValue();
        }

        static boolean bool(Map<String, Object> o, String key) {
            Object v = o.get(key);
            if (!(v instanceof Boolean)) throw new IllegalArgumentException(key + ": expected a boolean");
            return (Boolean) v;
        }

        static List<String> strings(Map<String, Object> o, String key) {
            Object v = o.get(key);
            if (!(v instanceof List)) throw new IllegalArgumentException(key + ": expected an array of strings");
            List<String> out = new ArrayList<>();
            for (Object x : (List<?>) v) {
                if (!(x instanceof String)) throw new IllegalArgumentException(key + ": expected an array of strings");
                out.add((String) x);
            }
            return Collections.unmodifiableList(out);
        }

        static String write(Object v) {
            if (v == null) return "null";
            if (v instanceof Boolean || v instanceof Integer) return v.toString();
            if (v instanceof String) return quote((String) v);
            if (v instanceof Map) {
                StringBuilder b = new StringBuilder("{");
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (b.length() > 1) b.append(',');
                    b.append(quote(String.valueOf(e.getKey()))).append(':').append(write(e.getValue()));
                }
                return b.append('}').toString();
            }
            throw new IllegalArgumentException("cannot write " + v.getClass());
        }

        static String quote(String str) {
            StringBuilder b = new StringBuilder("\"");
            for (char c : str.toCharArray()) {
                if (c == '"' || c == '\\') b.append('\\').append(c);
                else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                else b.append(c);
            }
            return b.append('"').toString();
        }

        private Object value() {
            ws();
            if (i >= s.length()) throw error("unexpected end");
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                ws();
                if (peek('}')) return m;
                do {
                    ws();
                    String k = str();
                    ws();
                    expect(':');
                    m.put(k, value());
                    ws();
                } while (peek(','));
                expect('}');
                return m;
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                ws();
                if (peek(']')) return l;
                do {
                    l.add(value());
                    ws();
                } while (peek(','));
                expect(']');
                return l;
            }
            if (c == '"') return str();
            if (s.startsWith("true", i)) { i += 4; return true; }
            if (s.startsWith("false", i)) { i += 5; return false; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            int start = i;
            while (i < s.length() && "+-.eE0123456789".indexOf(s.charAt(i)) >= 0) i++;
            if (start == i) throw error("unexpected character");
            return Double.parseDouble(s.substring(start, i));
        }

        private String str() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (i < s.length() && s.charAt(i) != '"') {
                char c = s.charAt(i++);
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': b.append('\n'); break;
                    case 't': b.append('\t'); break;
                    case 'r': b.append('\r'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                    default: b.append(e);
                }
            }
            expect('"');
            return b.toString();
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        private boolean peek(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) throw error("expected '" + c + "'");
        }

        private IllegalArgumentException error(String why) {
            return new IllegalArgumentException("bad JSON at " + i + ": " + why);
        }
    }
}
