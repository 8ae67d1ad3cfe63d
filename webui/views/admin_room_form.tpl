% rebase('base.tpl', title=_('Conference room'), back_path='/admin/rooms')
% include('admin_nav.tpl')
<h1>{{_('Conference room')}} {{key or ''}}</h1>
% if errors or other:
<div class="error" id="form-errors" role="alert"><p>{{_('Not saved: please correct the marked fields. Nothing was changed.')}}</p>
<ul>
% for e in other:
<li>{{e.where()}}: {{e.message}}</li>
% end
</ul></div>
% end
<form method="post" action="/admin/rooms{{'' if key is None else '/' + key}}" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<label>{{_('Number')}} * <input name="number" id="f-number" value="{{form.get('number', '')}}" placeholder="6000-6099" required></label>
% for m in errors.get('number', []):
<small class="error">{{m}}</small>
% end
<label>{{_('Name')}} <input name="name" id="f-name" value="{{form.get('name', '')}}"></label>
% for m in errors.get('name', []):
<small class="error">{{m}}</small>
% end
<label>{{_('PIN')}} <input name="pin" id="f-pin" type="password" inputmode="numeric" autocomplete="new-password" value=""></label>
<small class="hint">{{_('4 to 12 digits, not a run (1234) or one digit repeated. Empty: a new room gets a generated PIN, shown once; an existing room keeps its PIN.')}}</small>
% for m in errors.get('pin', []):
<small class="error" id="pin-error">{{m}}</small>
% end
<p><button type="submit" id="save">{{_('Save')}}</button> <a href="/admin/rooms">{{_('Cancel')}}</a></p>
</form>
