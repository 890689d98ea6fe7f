/**
 * The one script of the OP's pages: passkey ceremonies. A form marked `data-passkey="get"` or
 * `"create"` fetches its options from `data-options` (same origin, the interaction's cookie),
 * runs `navigator.credentials`, puts the answer (WebAuthn JSON, base64url) in its `response`
 * field and submits. Pages allow exactly this script by its hash; no value is ever written into it.
 *
 * @module
 */
import { encodeBase64url } from '../../../core/base64url.ts'
import { defaultCrypto } from '../../../core/crypto/index.ts'
import type { Params } from '../../http/params.ts'

/** The script's source. */
export const PASSKEY_SCRIPT = `(function(){
var enc=function(buf){var s='',b=new Uint8Array(buf);for(var i=0;i<b.length;i++)s+=String.fromCharCode(b[i]);return btoa(s).replace(/\\+/g,'-').replace(/\\//g,'_').replace(/=+$/,'')};
var dec=function(t){t=t.replace(/-/g,'+').replace(/_/g,'/');while(t.length%4)t+='=';var s=atob(t),b=new Uint8Array(s.length);for(var i=0;i<s.length;i++)b[i]=s.charCodeAt(i);return b.buffer};
var json=function(c){var r=c.response,o={id:c.id,rawId:enc(c.rawId),type:c.type,clientExtensionResults:c.getClientExtensionResults?c.getClientExtensionResults():{},response:{clientDataJSON:enc(r.clientDataJSON)}};
if(c.authenticatorAttachment)o.authenticatorAttachment=c.authenticatorAttachment;
if(r.attestationObject){o.response.attestationObject=enc(r.attestationObject);o.response.transports=r.getTransports?r.getTransports():[]}
else{o.response.authenticatorData=enc(r.authenticatorData);o.response.signature=enc(r.signature);if(r.userHandle)o.response.userHandle=enc(r.userHandle)}
return o};
var ids=function(list){return(list||[]).map(function(c){return Object.assign({},c,{id:dec(c.id)})})};
document.querySelectorAll('form[data-passkey]').forEach(function(form){
var status=form.querySelector('[data-status]');
if(!window.PublicKeyCredential){if(status)status.textContent='This browser cannot use passkeys.';return}
form.addEventListener('submit',function(ev){ev.preventDefault();
if(status)status.textContent='Waiting for your passkey…';
fetch(form.getAttribute('data-options'),{method:'POST',credentials:'same-origin'}).then(function(r){if(!r.ok)throw new Error('options');return r.json()}).then(function(o){
o.challenge=dec(o.challenge);
if(form.getAttribute('data-passkey')==='create'){o.user=Object.assign({},o.user,{id:dec(o.user.id)});o.excludeCredentials=ids(o.excludeCredentials);return navigator.credentials.create({publicKey:o})}
o.allowCredentials=ids(o.allowCredentials);return navigator.credentials.get({publicKey:o})
}).then(function(c){form.elements.response.value=JSON.stringify(json(c));form.submit()}).catch(function(e){if(status)status.textContent='The passkey did not work ('+(e&&e.name||'error')+'). Try again.'})})})})()`

/** The answer a passkey form posted (its `response` field, at most 16 KiB), parsed; else undefined. */
export function passkeyAnswer(params: Params): unknown {
  try {
    return JSON.parse((params.get('response') ?? '').slice(0, 16_384))
  } catch {
    return undefined
  }
}

let hash: Promise<string> | undefined

/** The CSP source of {@link PASSKEY_SCRIPT}: `sha256-` and its base64 digest. */
export function passkeyScriptHash(): Promise<string> {
  hash ??= defaultCrypto.sha256(PASSKEY_SCRIPT).then((digest) => {
    const b64 = encodeBase64url(digest).replace(/-/g, '+').replace(/_/g, '/')
    return `sha256-${b64}${'='.repeat((4 - (b64.length % 4)) % 4)}`
  })
  return hash
}
