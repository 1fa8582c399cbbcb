import baseOrg from './schema/base-org.json' with { type: 'json' }
import footfallSetup from './schema/footfall-setup.json' with { type: 'json' }

/** Field types the emulator enforces, named as Salesforce's describe names them. */
export type FieldType =
  | 'id'
  | 'string'
  | 'phone'
  | 'textarea'
  | 'double'
  | 'currency'
  | 'datetime'
  | 'date'
  | 'boolean'
  | 'picklist'
  | 'reference'
  | 'autonumber'

const FIELD_TYPES: readonly FieldType[] = [
  'id',
  'string',
  'phone',
  'textarea',
  'double',
  'currency',
  'datetime',
  'date',
  'boolean',
  'picklist',
  'reference',
  'autonumber',
]

/** One field as the JSON schema files describe it; absent flags are false. */
export interface FieldSpec {
  name: string
  label: string
  type: FieldType
  length?: number
  precision?: number
  scale?: number
  required?: boolean
  externalId?: boolean
  unique?: boolean
  /** Unique values compare case-sensitively (a Text field's "case sensitive" option). */
  caseSensitive?: boolean
  referenceTo?: string
  relationshipName?: string
  values?: string[]
  restricted?: boolean
  displayFormat?: string
  /** System fields: set by the org, refused in a create or update body. */
  readOnly?: boolean
}

export interface ObjectSpec {
  label: string
  labelPlural: string
  keyPrefix: string
  custom: boolean
  /** The Name field when it is not a plain required Text(80) (e.g. Auto Number). */
  nameField?: FieldSpec
  fields: FieldSpec[]
}

/** An org's schema as data: a test can start an org with or without the Footfall setup. */
export interface SchemaSpec {
  objects: Record<string, ObjectSpec>
}

export interface SetupSpec {
  fields?: Record<string, FieldSpec[]>
  objects?: Record<string, ObjectSpec>
}

export interface ObjectSchema {
  name: string
  spec: ObjectSpec
  /** Every field, system fields included, by exact API name. */
  fields: Map<string, FieldSpec>
  /** Lower-cased API name to field: SOQL and JSON field names are case-insensitive. */
  byLowerName: Map<string, FieldSpec>
  /** Lower-cased relationship name (`account__r`) to its reference field. */
  relationships: Map<string, FieldSpec>
}

export interface OrgSchema {
  objects: Map<string, ObjectSchema>
  byLowerName: Map<string, ObjectSchema>
  byKeyPrefix: Map<string, ObjectSchema>
}

const SYSTEM_FIELDS: FieldSpec[] = [
  { name: 'Id', label: 'Record ID', type: 'id', readOnly: true },
  { name: 'CreatedDate', label: 'Created Date', type: 'datetime', readOnly: true },
  { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime', readOnly: true },
  { name: 'SystemModstamp', label: 'System Modstamp', type: 'datetime', readOnly: true },
]

/** The org before Footfall's setup (SALESFORCE.md: Accounts with `In_Store_Customer_Id__c`). */
export function baseOrgSchema(): SchemaSpec {
  return structuredClone(baseOrg) as SchemaSpec
}

/** The org after its admin has added Footfall's fields and `Footfall_Visit__c`. */
export function footfallOrgSchema(): SchemaSpec {
  return applySetup(baseOrgSchema(), footfallSetup as SetupSpec)
}

/** Adds fields to existing objects and new objects, as an admin's setup (or a package) would. */
export function applySetup(schema: SchemaSpec, setup: SetupSpec): SchemaSpec {
  const out = structuredClone(schema)
  for (const [object, fields] of Object.entries(setup.fields ?? {})) {
    const spec = out.objects[object]
    if (!spec) throw new Error(`setup adds fields to ${object}, which the schema lacks`)
    spec.fields.push(...structuredClone(fields))
  }
  for (const [name, spec] of Object.entries(setup.objects ?? {})) {
    out.objects[name] = structuredClone(spec)
  }
  return out
}

/** Checks a schema description and indexes it; a bad description is a programming error. */
export function compileSchema(spec: SchemaSpec): OrgSchema {
  if (!spec || typeof spec.objects !== 'object' || spec.objects === null) {
    throw new Error('a schema needs an `objects` map of object name to description')
  }
  const objects = new Map<string, ObjectSchema>()
  const byLowerName = new Map<string, ObjectSchema>()
  const byKeyPrefix = new Map<string, ObjectSchema>()
  for (const [name, objectSpec] of Object.entries(spec.objects)) {
    if (!/^[A-Za-z0-9]{3}$/.test(objectSpec.keyPrefix)) {
      throw new Error(`${name}: key prefix must be 3 characters`)
    }
    if (byKeyPrefix.has(objectSpec.keyPrefix)) {
      throw new Error(`${name}: key prefix ${objectSpec.keyPrefix} is used twice`)
    }
    const fields = new Map<string, FieldSpec>()
    const nameField: FieldSpec | undefined = objectSpec.nameField
      ? objectSpec.nameField
      : objectSpec.fields.some((f) => f.name === 'Name')
        ? undefined
        : {
            name: 'Name',
            label: `${objectSpec.label} Name`,
            type: 'string',
            length: 80,
            required: true,
          }
    for (const field of [
      ...SYSTEM_FIELDS,
      ...(nameField ? [nameField] : []),
      ...objectSpec.fields,
    ]) {
      if (fields.has(field.name)) throw new Error(`${name}.${field.name} is defined twice`)
      if (!FIELD_TYPES.includes(field.type)) {
        throw new Error(`${name}.${field.name}: unknown type ${String(field.type)}`)
      }
      if (field.type === 'reference' && (!field.referenceTo || !field.relationshipName)) {
        throw new Error(`${name}.${field.name}: a reference needs referenceTo and relationshipName`)
      }
      fields.set(field.name, field)
    }
    const object: ObjectSchema = {
      name,
      spec: objectSpec,
      fields,
      byLowerName: new Map([...fields.values()].map((f) => [f.name.toLowerCase(), f])),
      relationships: new Map(
        [...fields.values()]
          .filter((f) => f.type === 'reference')
          .map((f) => [f.relationshipName!.toLowerCase(), f]),
      ),
    }
    objects.set(name, object)
    byLowerName.set(name.toLowerCase(), object)
    byKeyPrefix.set(objectSpec.keyPrefix, object)
  }
  for (const object of objects.values()) {
    for (const field of object.fields.values()) {
      if (field.type === 'reference' && !objects.has(field.referenceTo!)) {
        throw new Error(
          `${object.name}.${field.name} refers to ${field.referenceTo}, not in the schema`,
        )
      }
    }
  }
  return { objects, byLowerName, byKeyPrefix }
}

export function isCreateable(field: FieldSpec): boolean {
  return !field.readOnly && field.type !== 'autonumber'
}

/** A field Salesforce fills itself or that may be empty: everything but required input. */
export function isNillable(field: FieldSpec): boolean {
  return !field.required && field.type !== 'boolean' && field.name !== 'Id'
}

function soapType(field: FieldSpec): string {
  switch (field.type) {
    case 'id':
    case 'reference':
      return 'tns:ID'
    case 'double':
    case 'currency':
      return 'xsd:double'
    case 'datetime':
      return 'xsd:dateTime'
    case 'date':
      return 'xsd:date'
    case 'boolean':
      return 'xsd:boolean'
    default:
      return 'xsd:string'
  }
}

/** The field part of `GET /sobjects/{Object}/describe`, with the attributes jsforce and sync code read. */
export function describeField(field: FieldSpec): Record<string, unknown> {
  const textual = ['string', 'phone', 'textarea', 'picklist', 'autonumber'].includes(field.type)
  const length = textual ? (field.length ?? (field.type === 'picklist' ? 255 : 30)) : 0
  const custom = field.name.endsWith('__c')
  return {
    name: field.name,
    label: field.label,
    type: field.type === 'autonumber' ? 'string' : field.type,
    soapType: soapType(field),
    length: field.type === 'id' || field.type === 'reference' ? 18 : length,
    byteLength: field.type === 'id' || field.type === 'reference' ? 18 : length * 3,
    precision: field.precision ?? 0,
    scale: field.scale ?? 0,
    digits: 0,
    custom,
    externalId: field.externalId ?? false,
    unique: field.unique ?? false,
    caseSensitive: field.caseSensitive ?? false,
    idLookup: field.name === 'Id' || (field.externalId ?? false) || field.name === 'Name',
    nameField: field.name === 'Name',
    autoNumber: field.type === 'autonumber',
    calculated: false,
    nillable: isNillable(field),
    createable: isCreateable(field),
    updateable: isCreateable(field),
    defaultedOnCreate:
      field.readOnly === true || field.type === 'boolean' || field.type === 'autonumber',
    filterable: field.type !== 'textarea',
    sortable: field.type !== 'textarea',
    groupable: !['textarea', 'double', 'currency', 'datetime'].includes(field.type),
    htmlFormatted: false,
    restrictedPicklist: field.restricted ?? false,
    picklistValues: (field.values ?? []).map((value) => ({
      active: true,
      defaultValue: false,
      label: value,
      validFor: null,
      value,
    })),
    referenceTo: field.referenceTo ? [field.referenceTo] : [],
    relationshipName: field.relationshipName ?? null,
    relationshipOrder: null,
    cascadeDelete: false,
    defaultValue: null,
    defaultValueFormula: null,
    inlineHelpText: null,
    permissionable: custom && !field.required,
    polymorphicForeignKey: false,
    displayLocationInDecimal: false,
    encrypted: false,
    writeRequiresMasterRead: false,
  }
}
