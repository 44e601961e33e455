/** axios, for the VVP and AKS REST clients. Loaded through `libraries.ts` only. */
export { default as axios } from 'axios';
